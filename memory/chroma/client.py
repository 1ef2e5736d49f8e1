"""Open chromadb: embedded on disk (one process at a time, by lock) or a Chroma server.

Every failure becomes a StoreError naming the folder or the URL. A folder that holds
something other than a koe store, or a store whose collection vanished, is an error:
koe never starts an empty store over data it cannot read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from koe.config.paths import data_dir
from koe.memory.chroma.calls import call_chromadb, inside_chromadb, unwatch, watch
from koe.memory.errors import (
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
    read_only,
    reason,
    store_failure,
)

SQLITE_FILE = "chroma.sqlite3"
LOCK_FILE = "koe.lock"
MARKER_FILE = "koe-store.json"
STORE_FORMAT = 1


def default_store_path() -> Path:
    return data_dir() / "memory"


def chroma_settings(**extra: Any) -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False, **extra)


@dataclass
class Connection:
    """An open chromadb client plus what koe holds for it."""

    client: Any
    location: str  # folder or URL, for messages
    path: Path | None = None  # embedded only
    lock_fd: int | None = None

    @property
    def embedded(self) -> bool:
        return self.path is not None

    def reopen(self, between: Callable[[], None]) -> None:
        """Close chromadb (keeping the lock), run `between` on the quiet files, reopen."""
        assert self.path is not None
        path = self.path
        with contextlib.suppress(Exception):
            self.client.close()
        try:
            between()
        finally:
            self.client = chroma_call(path, lambda: _persistent_client(path))

    def close(self) -> None:
        with contextlib.suppress(Exception), inside_chromadb():
            self.client.close()
        if self.path is not None:
            unwatch(self.path)
        if self.lock_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.lock_fd, fcntl.LOCK_UN)
                os.close(self.lock_fd)
            self.lock_fd = None


def open_embedded(path: Path) -> Connection:
    path = path.expanduser()
    try:
        check_folder(path)
    except OSError as exc:
        raise _folder_failure(path, exc) from exc
    _prepare_folder(path)
    lock_fd = _lock(path)
    watch(path)
    try:
        client = chroma_call(path, lambda: _persistent_client(path))
    except BaseException:
        unwatch(path)
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        os.close(lock_fd)
        raise
    return Connection(client, str(path), path=path, lock_fd=lock_fd)


def _persistent_client(path: Path) -> Any:
    import chromadb

    client = chromadb.PersistentClient(path=str(path), settings=chroma_settings())
    client.heartbeat()
    return client


def open_http(url: str, timeout: float) -> Connection:
    import chromadb

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise StoreError(f"memory.url {url!r} is not an http(s) URL",
                         hint='use e.g. memory.url = "http://127.0.0.1:8000"')
    port = parsed.port or (443 if parsed.scheme == "https" else 80)

    def connect() -> Any:
        return chromadb.HttpClient(host=parsed.hostname, port=port,
                                   ssl=parsed.scheme == "https", settings=chroma_settings())

    try:
        # chromadb's client asks the server three questions while it is being made, before
        # its HTTP session can be given a timeout: those run against a deadline.
        client = _within(timeout, connect)
        _set_http_timeout(client, timeout)
        client.heartbeat()
    except Exception as exc:
        raise StoreUnavailableError(
            f"the Chroma server at {url} does not answer ({reason(exc)})",
            hint=f"start it (chroma run --path DIR --host {parsed.hostname} --port {port}), "
                 "check memory.url, or set memory.url = \"\" for the embedded store") from exc
    return Connection(client, url)


def _within(seconds: float, fn: Callable[[], Any]) -> Any:
    """fn() in a worker thread, given up on after `seconds` (the thread is left to end when
    its socket does; it holds nothing of koe's)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="koe-chroma-connect", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s, memory.timeout")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _set_http_timeout(client: Any, timeout: float) -> None:
    """chromadb's HTTP client waits forever by default; a dead server must not hang koe."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):
        raise StoreError("this chromadb's HTTP client cannot be given a timeout",
                         hint="install the chromadb version koe is tested with")
    session.timeout = httpx.Timeout(timeout)


def check_folder(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise StoreError(f"memory store {path} is a file, not a folder",
                         hint="set memory.path to a folder")
    if not path.is_dir():
        return
    names = {p.name for p in path.iterdir()} - {LOCK_FILE}
    if names and SQLITE_FILE not in names:
        raise StoreError(
            f"{path} is not empty and holds no memory store ({SQLITE_FILE} is missing)",
            hint="point memory.path at an empty or koe-made folder; koe will not start a "
                 "new store over files it does not know")


def _prepare_folder(path: Path) -> None:
    """Create a new store's folder readable by the user alone. An existing store is never
    chmod-ed: if its owner made it read-only, koe says so and leaves it as it is."""
    try:
        if not path.exists():
            path.mkdir(parents=True, mode=0o700)
            path.chmod(0o700)  # mkdir's mode is cut by the umask
        elif not (path / SQLITE_FILE).exists() and os.access(path, os.W_OK):
            path.chmod(0o700)  # an empty folder the user made for the store
    except OSError as exc:
        raise _folder_failure(path, exc) from exc
    for target in (path, path / SQLITE_FILE):
        if target.exists() and not os.access(target, os.W_OK):
            raise read_only(path, f"mode {stat.S_IMODE(target.stat().st_mode):o} on "
                                  f"{target.name if target != path else 'the folder'}")


def _folder_failure(path: Path, exc: OSError) -> StoreError:
    failure = store_failure(f"memory store {path}", exc, path)
    if type(failure) is not StoreError:  # disk full, read-only
        return failure
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    return StoreError(f"memory store {path}: {(exc.strerror or str(exc)).lower()}{where}",
                      hint="set memory.path (or KOE_HOME) to a folder you can read and write")


def _lock(path: Path) -> int:
    lock_path = path / LOCK_FILE
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise store_failure(f"memory store {path}: cannot write {LOCK_FILE}", exc, path
                            ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StoreLockedError(
            f"memory store {path} is in use by another process (pid {holder})",
            hint="close the other koe, or share memory between programs with a Chroma "
                 "server (memory.url)") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def chroma_call(path: Path, fn: Any) -> Any:
    """Run fn while opening the store at `path`: a failure that is not the disk's (full,
    read-only) says the store looks damaged."""
    def failure(exc: BaseException) -> StoreError:
        found = store_failure(f"memory store {path}", exc, path)
        if type(found) is not StoreError:  # disk full, read-only: not damage
            return found
        return StoreError(
            f"memory store {path} cannot be opened; it looks damaged ({reason(exc)})",
            hint=f"move {path} aside and restore it from `koe memory export` output or a "
                 "backup; koe does not start an empty store over it")

    return call_chromadb(fn, failure)



def read_marker(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads((path / MARKER_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path / MARKER_FILE} is unreadable ({exc})") from exc


def write_marker(path: Path, collection: str) -> None:
    data = {"format": STORE_FORMAT, "collection": collection, "created": time.time()}
    tmp = path / (MARKER_FILE + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path / MARKER_FILE)
