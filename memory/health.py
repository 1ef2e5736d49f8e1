"""`koe doctor` checks for memory: the embedding model and the store."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from koe.config.checks import Check
from koe.config.errors import KoeError
from koe.config.schema import Settings
from koe.memory.chroma.client import SQLITE_FILE, check_folder, default_store_path


def check_memory(settings: Settings) -> Iterator[Check]:
    yield from check_embeddings(settings)
    yield from check_store(settings)


def check_embeddings(settings: Settings) -> Iterator[Check]:
    from koe.memory.embeddings import DIMENSIONS, get_embedder, resolve_model

    name = settings.memory.embedding_model
    label = f"memory.embedding_model = {name}"
    try:
        model_file, tokenizer_file = resolve_model(name)
        started = time.perf_counter()
        vector = get_embedder(name, settings.memory.threads).embed_one("koe doctor check")
        ms = (time.perf_counter() - started) * 1000
    except KoeError as exc:
        yield Check(label, False, str(exc), exc.hint)
        return
    ok = vector.shape == (DIMENSIONS,)
    yield Check(label, ok, f"{model_file} ({model_file.stat().st_size / 1e6:.0f} MB) + "
                f"{tokenizer_file.name}, {vector.shape[0]}-d, loads and embeds in {ms:.0f} ms",
                "" if ok else f"the model must give {DIMENSIONS}-d vectors")


def check_store(settings: Settings) -> Iterator[Check]:
    from koe.memory.errors import StoreLockedError
    from koe.memory.store import MemoryStore

    memory = settings.memory
    if memory.url:
        label, where = "memory store (server)", memory.url
    else:
        path = Path(memory.path).expanduser() if memory.path else default_store_path()
        label, where = "memory store", str(path)
        problem = _folder_problem(path)
        if problem is not None:
            yield Check(label, False, *problem)
            return
        if not (path / SQLITE_FILE).exists():
            yield Check(label, True, f"{path}: not created yet (made on first use)")
            return
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            yield Check(label, False, f"{path} is readable by others (mode {mode:o})",
                        f"chmod 700 {path}")
            return
    try:
        with MemoryStore.open(memory) as store:
            entries = store.count()
    except StoreLockedError as exc:
        yield Check(label, True, f"{exc} (it is open in another koe)")
        return
    except KoeError as exc:
        yield Check(label, False, str(exc), exc.hint)
        return
    yield Check(label, True, f"{where}: opens, {entries} index entries")


def _folder_problem(path: Path) -> tuple[str, str] | None:
    """Why a store at `path` could not be opened or made, as (message, hint)."""
    try:
        check_folder(path)
    except KoeError as exc:
        return str(exc), exc.hint
    except OSError as exc:
        return f"{path}: {(exc.strerror or str(exc)).lower()}", "set memory.path to a folder"
    if path.exists():
        return None
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return (f"{path} cannot be made: {parent} is not a folder you can write",
                "set memory.path (or KOE_HOME) to a folder you can write")
    return None
