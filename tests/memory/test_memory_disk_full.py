"""A full disk under the store (a small tmpfs, really filled): koe says "disk full" with the
store's path, a retried add is never stored twice, and a forget that could not finish is
finished once there is room."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings
from koe.memory.forgetting.journal import JOURNAL_FILE
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from tests.memory.helpers import files_containing, fill_disk, run_koe, small_tmpfs, write_config

TEXT = "The boiler service is booked for the 14th at noon."


@pytest.mark.parametrize("leave", [0, 16 * 1024, 48 * 1024])
def test_add_on_a_full_disk_says_so_and_a_retry_never_duplicates(tmp_path: Path, leave: int
                                                                 ) -> None:
    with small_tmpfs(tmp_path / "disk", "4m") as disk:
        store_path = disk / "store"
        config = write_config(tmp_path / "koe.toml", path=str(store_path))
        with MemoryStore.open(MemorySettings(path=str(store_path))) as store:
            store.add_turn("user", "a first memory, so the store exists", "c")
        filler = fill_disk(disk, leave=leave)

        first = run_koe("--config", str(config), "memory", "add", TEXT, "--conversation", "c")
        if first.code != 0:  # it may fit in what was left
            assert first.code == 1
            assert first.err.startswith(f"koe: error: disk full: memory store {store_path}"), (
                first.err)
            # Failing in the write, koe names the id it chose for it; failing before (the
            # store could not even be opened), there is nothing to repeat.
            retry_id = re.search(r"retry with --id (\w+)", first.err)
            filler.unlink()
            again = run_koe("--config", str(config), "memory", "add", TEXT, "--conversation",
                            "c", *(["--id", retry_id[1]] if retry_id else []))
            assert again.code == 0, again.err
            assert not retry_id or again.out.strip() == retry_id[1]
        filler.unlink(missing_ok=True)
        with MemoryStore.open(MemorySettings(path=str(store_path))) as store:
            assert [r.text for r in store.records(conversation="c")].count(TEXT) == 1


def test_a_forget_the_full_disk_stopped_is_finished_when_there_is_room(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "8m") as disk:
        store_path = disk / "store"
        config = write_config(tmp_path / "koe.toml", path=str(store_path))
        with MemoryStore.open(MemorySettings(path=str(store_path))) as store:
            store.add_many(MemoryRecord(f"m{i}", f"Everyday note {i} about the garden.", "user",
                                        "c", 1.7e9 + i) for i in range(300))
            store.add_turn("user", "my locker combination is zebra-quartz-4417", "secret")
        # Room to open the store and delete, not to rewrite it: the compaction fails.
        filler = fill_disk(disk, leave=256 * 1024)
        forget = ("--config", str(config), "memory", "forget", "--matching",
                  "zebra-quartz-4417", "--yes")
        ran = run_koe(*forget)
        begun = ran.code == 0 or "forgot 1 memories" in ran.err
        if ran.code != 0:
            assert "disk full" in ran.err and str(store_path) in ran.err, ran.err
        filler.unlink()
        if not begun:  # refused before anything was deleted (the store could not open)
            assert run_koe(*forget).code == 0
        # Whatever was left undone is done by the next open, now that there is room.
        with MemoryStore.open(MemorySettings(path=str(store_path))) as store:
            assert len(store.records()) == 300
            assert not store.warnings
        assert not (store_path / JOURNAL_FILE).exists()
        assert files_containing(store_path, b"zebra-quartz-4417") == []
