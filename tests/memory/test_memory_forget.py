"""Forgotten means gone: not searched, not exported, not in the files on disk."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from koe.config.schema import MemorySettings
from koe.memory.compact import REBUILD_MARKER, _write_marker, rebuild_name
from koe.memory.forget import forget, select
from koe.memory.index.mirror import Narrowing
from koe.memory.recall import recall
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from koe.memory.transfer import export_jsonl
from tests.memory.helpers import files_containing

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
