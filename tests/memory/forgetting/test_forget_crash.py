"""kill -9 at random points of a forget (the deletes, the compaction's copy, swap, clean-up
and VACUUM): the next open finishes the forget, and the text is in no file of the store."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings
from koe.memory.forgetting.forget import forget, select
from koe.memory.forgetting.journal import JOURNAL_FILE
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from tests.memory.helpers import ROOT, files_containing

HERE = Path(__file__).parent
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SECRET = "my locker combination is zebra-quartz-4417"
PHRASE = "zebra-quartz-4417"
FILLER = 1200  # past chromadb's first save of its vector index files
TRIALS = 5


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store holding FILLER everyday notes and the secret three times (one long)."""
    path = tmp_path_factory.mktemp("forget-crash") / "template"
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        store.add_many(MemoryRecord(f"m{i}", f"Everyday note {i} about groceries and chores.",
                                    "user", f"c{i // 20}", (T0 + timedelta(minutes=i)).timestamp())
                       for i in range(FILLER))
        store.add_turn("user", f"Remember: {SECRET}.", "secret", at=T0)
        store.add_turn("assistant", f"Got it, {SECRET}.", "secret", at=T0 + timedelta(seconds=5))
        store.add_turn("user", "padding sentence. " * 300 + SECRET, "secret",
                       at=T0 + timedelta(seconds=9))
    yield path


def _child(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(HERE / "crash_forgetter.py"), str(path), PHRASE],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _forget_seconds(template: Path, folder: Path) -> float:
    """How long one uninterrupted forget takes here (the range the kills are spread over)."""
    path = folder / "timed"
    shutil.copytree(template, path)
    child = _child(path)
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    done = out.split()
    assert done[-3] == "DONE" and done[-2] == "3"
    return float(done[-1])


def _assert_forgotten(path: Path, note: str) -> None:
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        assert not (path / JOURNAL_FILE).exists(), note
        assert len(store.records()) == FILLER, note
        assert all(PHRASE not in r.text for r in store.records(conversation="secret")), note
        assert store.search("Everyday note 1111 about groceries and chores.", 1)[0].record.id \
            == "m1111", note
        assert select(store, matching=PHRASE) == [], note
    assert files_containing(path, PHRASE.encode()) == [], note
    names = [c.name for c in path.iterdir()]
    assert sum(len(n) == 36 and n.count("-") == 4 for n in names) <= 2, (note, names)


def test_forget_killed_at_random_points_finishes_on_next_open(template: Path,
                                                              tmp_path: Path) -> None:
    seed = int(os.environ.get("MEMORY_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    span = _forget_seconds(template, tmp_path)
    killed_mid_forget = 0
    for trial in range(TRIALS):
        path = tmp_path / f"trial{trial}"
        shutil.copytree(template, path)
        # Spread over the whole forget, and a little past it (a kill after DONE is harmless).
        delay = rng.uniform(0.0, span * 1.1)
        note = f"MEMORY_CRASH_SEED={seed} trial {trial}: killed {delay:.3f} s into a " \
               f"{span:.3f} s forget"
        child = _child(path)
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "FORGETTING", child.stderr.read()
            time.sleep(delay)
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        killed_mid_forget += (path / JOURNAL_FILE).exists()
        _assert_forgotten(path, note)
    # The kills landed inside forgets, not only after them (else this tested nothing).
    assert killed_mid_forget >= 1, f"MEMORY_CRASH_SEED={seed}: every kill came too late"


def test_a_forget_whose_compaction_never_ran_is_finished_on_open(template: Path,
                                                                 tmp_path: Path) -> None:
    """The journal's promise, step by step: written before the deletes, kept until the
    compaction is done (a process killed right after the deletes leaves exactly this)."""
    from koe.memory.forgetting.journal import write_journal

    path = tmp_path / "store"
    shutil.copytree(template, path)
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        chosen = select(store, matching=PHRASE)
        write_journal(path, [r.id for r in chosen], compact=True)
        assert store.delete([r.id for r in chosen]) == 3
    assert files_containing(path, PHRASE.encode())  # deleted, but still in the files
    _assert_forgotten(path, "journal left after the deletes")


def test_forget_again_after_a_crash_has_nothing_left(template: Path, tmp_path: Path) -> None:
    path = tmp_path / "store"
    shutil.copytree(template, path)
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        report = forget(store, select(store, matching=PHRASE))
        assert report.forgotten == 3 and report.compaction is not None
        assert not (path / JOURNAL_FILE).exists()
    _assert_forgotten(path, "plain forget")
