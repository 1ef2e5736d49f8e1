"""Forgotten means gone: not searched, not exported, not in the files on disk."""

from __future__ import annotations

import io
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from koe.config.schema import MemorySettings
from koe.memory.chroma import hnsw_files
from koe.memory.forgetting.compact import REBUILD_MARKER, _write_marker, rebuild_name
from koe.memory.forgetting.forget import forget, select
from koe.memory.index.mirror import Narrowing
from koe.memory.recall import recall
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from koe.memory.transfer import export_jsonl
from tests.memory.forgetting.heap_forgetter import DIRTY_HEAP_ENV
from tests.memory.helpers import ROOT, files_containing

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SECRET = "my locker combination is zebra-quartz-4417"


def _fill(store: MemoryStore, n: int = 1200) -> None:
    """Enough memories that chromadb has saved its vector index files at least once."""
    store.add_many(MemoryRecord(f"m{i}", f"Everyday note number {i} about groceries and chores.",
                                "user", f"c{i // 20}", (T0 + timedelta(minutes=i)).timestamp())
                   for i in range(n))


def _exported(store: MemoryStore) -> str:
    out = io.StringIO()
    export_jsonl(store, out)
    return out.getvalue()


def test_forgotten_text_leaves_the_disk(store: MemoryStore) -> None:
    path = store.connection.path
    assert path is not None
    _fill(store)
    early = store.add_turn("user", f"Remember: {SECRET}.", "secret-talk", at=T0)
    late = store.add_turn("assistant", f"Got it, {SECRET}.", "secret-talk",
                          at=T0 + timedelta(seconds=5))
    vector = store.embedder.embed_one(early.text).tobytes()[:48]
    needle = SECRET.encode()
    assert files_containing(path, needle)  # the grep can see them while they are stored
    assert files_containing(path, vector)
    assert any(name.endswith("data_level0.bin") for name in files_containing(path, b""))

    # Deleting alone is not enough: chromadb keeps the text in freed pages and its log.
    assert store.delete([late.id]) == 1
    assert files_containing(path, needle)

    chosen = select(store, matching="zebra-quartz")
    assert [r.id for r in chosen] == [early.id]
    report = forget(store, chosen)
    assert report.forgotten == 1 and report.compaction is not None
    assert report.compaction.entries == 1200
    assert files_containing(path, needle) == []
    assert files_containing(path, vector) == []
    assert SECRET not in _exported(store)
    assert all(SECRET not in r.record.text for r in recall(store, "locker combination", 10))
    # The rest is intact and searchable.
    assert len(store.records()) == 1200
    assert store.search("note number 1111 groceries", 1)[0].record.id == "m1111"


def test_forget_by_conversation_and_age(store: MemoryStore) -> None:
    for i in range(6):
        store.add_turn("user", f"turn {i}", "old" if i < 3 else "new",
                       at=T0 + timedelta(days=i))
    assert [r.text for r in select(store, conversation="old")] == ["turn 0", "turn 1", "turn 2"]
    assert [r.text for r in select(store, before=T0 + timedelta(days=4))] == [
        "turn 0", "turn 1", "turn 2", "turn 3"]
    # Selectors narrow each other: old AND before day 2 (an unknown id would match nothing).
    both = select(store, conversation="old", before=T0 + timedelta(days=2))
    assert [r.text for r in both] == ["turn 0", "turn 1"]
    assert select(store, conversation="old", before=T0 + timedelta(days=4), ids=["nope"]) == []
    report = forget(store, both, compact_after=False)
    assert report.forgotten == 2 and report.compaction is None
    assert [r.text for r in store.records()] == ["turn 2", "turn 3", "turn 4", "turn 5"]


def test_interrupted_compaction_is_finished_on_open(memory_settings: MemorySettings) -> None:
    with MemoryStore.open(memory_settings) as store:
        store.add_turn("user", "keep me", "c", at=T0)
        client, name = store.connection.client, memory_settings.collection
        copy = client.create_collection(rebuild_name(name),
                                        configuration=store.collection.configuration)
        page = store.collection.get(include=["embeddings", "documents", "metadatas"])
        copy.add(ids=page["ids"], embeddings=np.asarray(page["embeddings"]),
                 documents=page["documents"], metadatas=page["metadatas"])
        path = Path(memory_settings.path)
        _write_marker(path, name, rebuild_name(name))
    # "Crash" here: the copy is complete and marked, the swap never happened.
    with MemoryStore.open(memory_settings) as store:
        names = [c.name for c in store.connection.client.list_collections()]
        assert names == [memory_settings.collection]
        assert [r.text for r in store.records()] == ["keep me"]
        assert not (path / REBUILD_MARKER).exists()


def test_unfinished_copy_is_discarded_on_open(memory_settings: MemorySettings) -> None:
    with MemoryStore.open(memory_settings) as store:
        store.add_turn("user", "keep me too", "c", at=T0)
        store.connection.client.create_collection(rebuild_name(memory_settings.collection))
    with MemoryStore.open(memory_settings) as store:
        assert [c.name for c in store.connection.client.list_collections()] == [
            memory_settings.collection]
        assert [json.loads(line)["text"] for line in _exported(store).splitlines()] == [
            "keep me too"]


def test_forgotten_words_leave_every_index(store: MemoryStore) -> None:
    """The search index beside chromadb holds each memory's words, vector and text: after a
    forget, none of them is in any file, and no search finds it."""
    path = store.connection.path
    assert path is not None and store.index is not None
    _fill(store, 300)
    secret = store.add_turn("user", "The vault code is xylophone-marzipan-8812.", "vault", at=T0)
    echo = store.add_turn("assistant", "Noted: xylophone marzipan 8812.", "vault", at=T0)
    words = [b"xylophone", b"marzipan", b"8812"]
    vector = store.embedder.embed_one(secret.text).tobytes()[:48]
    index_files = [name for name in files_containing(path, b"") if "koe-index" in name]
    assert index_files
    assert all(files_containing(path, w) for w in words)
    assert set(files_containing(path, b"xylophone")) & set(index_files)
    report = forget(store, select(store, matching="xylophone marzipan"))
    assert report.forgotten == 2 and report.compaction is not None
    for needle in [*words, vector, store.embedder.embed_one(echo.text).tobytes()[:48]]:
        assert files_containing(path, needle) == [], needle
    assert store.index.matching(["xylophone", "marzipan", "8812"], 10, Narrowing()) == []
    assert all("xylophone" not in r.record.text for r in recall(store, "vault code", 10))
    assert len(store.index) == store.count() == 300


def _forget_in_dirty_heap(path: Path, *flags: str) -> list[str]:
    """The steps of tests/memory/forgetting/heap_forgetter.py after which the store's files held the
    secret, in a process whose freed heap was full of it."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "heap_forgetter.py"), str(path), *flags],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, **DIRTY_HEAP_ENV})
    assert done.returncode == 0 and "FORGOT 1" in done.stdout, done.stderr
    return [line.removeprefix("LEAK ") for line in done.stdout.splitlines()
            if line.startswith("LEAK ")]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="provokes glibc's allocator")
def test_forgotten_words_never_reach_unused_index_room(tmp_path: Path) -> None:
    """chromadb's HNSW index writes the room it has allocated but not used yet to
    data_level0.bin as it was: freed memory of the process (memory/chroma/hnsw_files.py). With the
    heap full of the secret, neither the compaction nor the next write puts it in a file; the
    control, without koe's zeroing, shows the provocation reaches the files both times."""
    assert _forget_in_dirty_heap(tmp_path / "zeroed") == []
    assert _forget_in_dirty_heap(tmp_path / "control", "unprotected") == [
        "compaction", "next write"]


def _room(folder: Path) -> tuple[int, bytes, bytes, bytes]:
    """Elements in use, their bytes, and the unused room of data_level0.bin and length.bin."""
    _, _, _, count, per_element = hnsw_files.HEADER.unpack_from(
        (folder / "header.bin").read_bytes())
    data = (folder / "data_level0.bin").read_bytes()
    lengths = (folder / "length.bin").read_bytes()
    return count, data[:count * per_element], data[count * per_element:], lengths[count * 4:]


def test_unused_index_room_is_zero_and_the_index_intact(memory_settings: MemorySettings) -> None:
    """After every chromadb call the room past the elements is zero, before chromadb first
    saves its index (then all of it is room) and after; what is in use stays as it was."""
    path = Path(memory_settings.path)
    with MemoryStore.open(memory_settings) as store:
        store.add_turn("user", "first words", "c", at=T0)
        (folder,) = hnsw_files.index_folders(path)
        count, _, room, length_room = _room(folder)
        assert count == 0 and room and not any(room) and length_room and not any(length_room)
        _fill(store, 1050)  # chromadb saves its index after 1,000 writes
    with MemoryStore.open(memory_settings) as store:
        count, used, room, length_room = _room(folder)
        assert count >= 1000 and any(used) and not any(room) and not any(length_room)
        vector = store.embedder.embed_one("Everyday note number 777 about groceries and chores.")
        found = store.call(lambda: store.collection.query(query_embeddings=[vector], n_results=1))
        assert found["ids"] == [["m777"]]
