"""koe's calls into chromadb, counted over all threads: when the last one ends, the embedded
stores' HNSW files have their unused room zeroed (memory/chroma/hnsw_files.py says why).

chromadb writes those files only while a call is running (a write, or a read that first
applies the log), so zeroing when none runs, and holding new calls until it is done, cannot
meet a write halfway. Every chromadb call of koe's runs inside `inside_chromadb()` or holds
a store's `ChromaLock`. Zeroing the files beats making malloc hand out zeroed memory
(glibc's M_PERTURB): process-wide that made Whisper 25-45 % slower, and even on only
around chromadb's calls it misses small blocks served from glibc's per-thread cache
(length.bin's 400 bytes); this costs a stat per call and works on every platform.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from koe.config.errors import KoeError
from koe.memory.chroma import hnsw_files

log = logging.getLogger(__name__)
_guard = threading.Lock()
_inside = 0  # calls running, over all threads
_watched: dict[Path, dict[Path, hnsw_files.Signature | None]] = {}  # store -> index folders


def watch(store: Path) -> None:
    """Keep `store`'s index files clean from now on (its owner holds the store's lock)."""
    with _guard:
        _watched[store] = {}
        if _inside == 0:
            _zero_rooms()


def unwatch(store: Path) -> None:
    """Stop, before the store's lock is released (another process may own it next)."""
    with _guard:
        _watched.pop(store, None)


def _enter() -> None:
    global _inside
    with _guard:
        _inside += 1


def _leave() -> None:
    global _inside
    with _guard:
        _inside -= 1
        if _inside == 0:
            _zero_rooms()


def _zero_rooms() -> None:
    """Zero the room of every index whose files changed since they were last zeroed."""
    for store, seen in list(_watched.items()):
        try:
            folders = hnsw_files.index_folders(store)
        except OSError:
            continue
        _watched[store] = {folder: seen.get(folder) for folder in folders}  # gone ones drop
        for folder in folders:
            try:
                now = hnsw_files.signature(folder)
                if now is not None and seen.get(folder) != now:
                    hnsw_files.zero_unused_room(folder)
                    _watched[store][folder] = hnsw_files.signature(folder)
            except OSError as exc:  # a store chromadb cannot write either; tried next time
                log.warning("cannot zero the unused room of %s: %s", folder, exc)


@contextmanager
def inside_chromadb() -> Iterator[None]:
    _enter()
    try:
        yield
    finally:
        _leave()


def call_chromadb(fn: Callable[[], Any],
                  failure: Callable[[BaseException], BaseException]) -> Any:
    """fn() inside chromadb; what it raises becomes failure(exc), which names the store.
    BaseException too: chromadb's Rust core panics on some damaged files. Ctrl-C, exit and
    koe's own errors pass as they are."""
    try:
        with inside_chromadb():
            return fn()
    except (KeyboardInterrupt, SystemExit, KoeError):
        raise
    except BaseException as exc:
        raise failure(exc) from exc


class ChromaLock:
    """A reentrant lock (a store's writes and compaction) whose holder counts as inside
    chromadb: nothing is zeroed halfway through a compaction."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> ChromaLock:
        self._lock.acquire()
        try:
            _enter()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            _leave()
        finally:
            self._lock.release()
