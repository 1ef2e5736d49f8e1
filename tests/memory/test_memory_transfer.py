"""Export and import: any memory round-trips exactly, and an export never harms the file it
replaces (written whole or not at all, private, said in one line when it fails)."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koe.config.schema import MemorySettings
from koe.memory.records import ROLES, SOURCES, MemoryRecord
from koe.memory.store import MemoryStore
from koe.memory.transfer import export_jsonl, import_jsonl, parse_line
from koe.memory.when.timestamps import MAX_TIMESTAMP, MIN_TIMESTAMP
from tests.memory.helpers import fill_disk, run_koe, small_tmpfs, write_config

# Text as people and programs write it: any character UTF-8 can carry (no lone surrogates).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=300).filter(
    str.strip)
NAME = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="#"), min_size=1,
               max_size=20)
RECORDS = st.builds(
    MemoryRecord, id=NAME, text=TEXT, role=st.sampled_from(ROLES), conversation=NAME,
    timestamp=st.floats(MIN_TIMESTAMP, MAX_TIMESTAMP, exclude_max=True), user=NAME,
    source=st.sampled_from(SOURCES), interrupted=st.booleans(),
    spoken=st.none() | st.text(st.characters(exclude_categories=("Cs",)), max_size=50))


@given(RECORDS)
def test_a_line_round_trips_any_memory(record: MemoryRecord) -> None:
    line = json.dumps(record.to_json(), ensure_ascii=False).encode("utf-8")
    assert parse_line(line) == (record, "")


@pytest.fixture(scope="module")
def two_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MemoryStore,
                                                                           MemoryStore]]:
    folder = tmp_path_factory.mktemp("round-trip")
    with MemoryStore.open(MemorySettings(path=str(folder / "a"))) as first, \
            MemoryStore.open(MemorySettings(path=str(folder / "b"))) as second:
        yield first, second


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(RECORDS, min_size=1, max_size=8, unique_by=lambda r: r.id))
def test_export_then_import_gives_back_the_same_memories(
        two_stores: tuple[MemoryStore, MemoryStore], records: list[MemoryRecord]) -> None:
    first, second = two_stores
    first.add_many(records)
    stored = {r.id: r for r in first.get([r.id for r in records])}
    for record in records:  # chromadb keeps a float to about 16 digits: a microsecond
        assert stored[record.id] == replace(record, timestamp=stored[record.id].timestamp)
        assert stored[record.id].timestamp == pytest.approx(record.timestamp, abs=1e-5)
    out = io.StringIO()
    export_jsonl(first, out)
    report = import_jsonl(second, io.BytesIO(out.getvalue().encode("utf-8")))
    assert not report.skipped and not report.notes
    assert second.records() == first.records()  # exactly, every field


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "koe.toml", path=str(tmp_path / "store"))


def test_export_file_is_private_and_replaced_whole(config: Path, tmp_path: Path) -> None:
    with MemoryStore.open(MemorySettings(path=str(tmp_path / "store"))) as store:
        store.add_turn("user", "The spare key is under the blue pot.", "c")
    backup = tmp_path / "backup.jsonl"
    backup.write_text("an older backup\n", encoding="utf-8")
    backup.chmod(0o644)
    ran = run_koe("--config", str(config), "memory", "export", "-o", str(backup))
    assert ran.code == 0, ran.err
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert json.loads(backup.read_text(encoding="utf-8"))["text"] == (
        "The spare key is under the blue pot.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.jsonl", "koe.toml", "store"]


def test_export_to_a_full_disk_keeps_the_old_backup(config: Path, tmp_path: Path) -> None:
    with MemoryStore.open(MemorySettings(path=str(tmp_path / "store"))) as store:
        # Short texts (quick to embed), more of them than the disk has room for.
        store.add_many(MemoryRecord(f"m{i}", f"memory {i} about the weekly shopping list",
                                    "user", "c", 1.7e9 + i) for i in range(800))
    with small_tmpfs(tmp_path / "disk", "1m") as disk:
        backup = disk / "backup.jsonl"
        backup.write_bytes(b"a good old backup\n" * 1000)
        fill_disk(disk, leave=64 * 1024)
        ran = run_koe("--config", str(config), "memory", "export", "-o", str(backup))
        assert ran.code == 1
        assert ran.err.startswith(f"koe: error: disk full: cannot write {backup}"), ran.err
        assert len(ran.err.strip().splitlines()) <= 2
        assert backup.read_bytes() == b"a good old backup\n" * 1000
        assert sorted(p.name for p in disk.iterdir()) == ["backup.jsonl", "filler"]


def test_a_memory_replaced_by_id_keeps_nothing_of_its_old_self(store: MemoryStore) -> None:
    old = MemoryRecord("r1", "long " * 900, "assistant", "c", 1.7e9, interrupted=True,
                       spoken="long long")
    new = MemoryRecord("r1", "short now", "user", "c", 1.8e9)
    store.add_many([old])
    assert store.count() > 1
    store.add_many([new])
    assert store.get(["r1"]) == [new] and store.count() == 1
    entry = store.collection.get(ids=["r1"], include=["metadatas"])["metadatas"][0]
    assert not {"interrupted", "spoken", "pieces", "piece"} & set(entry)
