"""The search index after kill -9: a write killed between chromadb and the index is finished
from chromadb on the next open, and the index always ends equal to chromadb's content."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from koe.config.schema import MemorySettings
from koe.memory.index.mirror import Narrowing
from koe.memory.index.tables import FILE
from koe.memory.recall import recall
from koe.memory.store import MemoryStore
from tests.memory.helpers import ROOT

HERE = Path(__file__).parent
TEXT = "The quokka sanctuary tickets are in the blue folder under the piano."


def _kill_between(path: Path, *args: str) -> None:
    """Run crash_indexer.py until it says BETWEEN, then kill -9 it."""
    child = subprocess.Popen([sys.executable, str(HERE / "crash_indexer.py"), str(path), *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == "BETWEEN", (line, child.stderr.read() if child.stderr else "")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL


def _index_entries(path: Path) -> set[str]:
    with sqlite3.connect(path / FILE) as db:
        return {e for (e,) in db.execute("SELECT entry FROM entries")}


def _pending(path: Path) -> list[str]:
    with sqlite3.connect(path / FILE) as db:
        return [e for (e,) in db.execute("SELECT entry FROM pending")]


def _chroma_entries(store: MemoryStore) -> set[str]:
    return {i for page in store.pages(include=()) for i in page["ids"]}


def test_a_write_killed_before_the_index_is_finished_on_open(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        store.add_turn("user", "The spare key is under the blue flower pot.", "c")
    _kill_between(path, "add", TEXT)
    assert "target" not in _index_entries(path)  # chromadb has it, the index does not yet
    assert _pending(path) == ["target"]
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        assert _pending(path) == []
        assert _index_entries(path) == _chroma_entries(store)
        assert store.index is not None
        # Found by its words (the full-text index) and by meaning.
        slots = store.index.matching(["quokka"], 5, _everywhere())
        assert [store.index.entry(s) for s in slots] == ["target"]
        assert recall(store, "where are the quokka tickets?", 1)[0].record.id == "target"


def test_a_forget_killed_before_the_index_is_finished_on_open(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        store.add_turn("user", TEXT, "c", id="target")
        store.add_turn("user", "The spare key is under the blue flower pot.", "c")
    _kill_between(path, "forget")
    assert "target" in _index_entries(path)  # gone from chromadb, not yet from the index
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        assert "target" not in _index_entries(path)
        assert _index_entries(path) == _chroma_entries(store)
        assert store.index is not None and store.index.matching(["quokka"], 5,
                                                                _everywhere()) == []
        assert all(r.record.id != "target" for r in recall(store, "quokka tickets", 5))


def test_killed_at_random_during_writes_the_index_matches_chromadb(tmp_path: Path) -> None:
    """crash_writer.py writes bursts; killed anywhere, the reopened index equals chromadb."""
    seed = int(os.environ.get("MEMORY_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    path = tmp_path / "store"
    for trial in range(3):
        child = subprocess.Popen([sys.executable, str(HERE.parent / "crash_writer.py"), str(path)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 cwd=ROOT)
        try:
            assert child.stdout is not None
            for _ in range(rng.randint(1, 4)):
                assert child.stdout.readline().startswith("ACK"), child.stderr
            time.sleep(rng.uniform(0.0, 0.3))
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        with MemoryStore.open(MemorySettings(path=str(path))) as store:
            note = f"MEMORY_CRASH_SEED={seed} trial {trial}"
            assert _pending(path) == [], note
            assert _index_entries(path) == _chroma_entries(store), note


def test_a_missing_or_damaged_index_is_rebuilt_from_chromadb(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        store.add_turn("user", TEXT, "c", id="target")
        store.add_turn("user", "The spare key is under the blue flower pot.", "c")
    for name in os.listdir(path):
        if name.startswith(FILE):
            os.remove(path / name)
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        assert any("rebuilt the search index" in w for w in store.warnings)
        assert _index_entries(path) == {"target", *(_chroma_entries(store) - {"target"})}
    with sqlite3.connect(path / FILE) as db:  # an entry lost behind koe's back
        db.execute("DELETE FROM entries WHERE entry = 'target'")
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        assert any("did not match" in w for w in store.warnings)
        assert recall(store, "where are the quokka tickets?", 1)[0].record.id == "target"


def _everywhere() -> Narrowing:
    return Narrowing()
