"""Child process for the dirty-heap forget test: stores a secret among 300 memories, fills
the freed heap with it, forgets it (with compaction), fills the heap again and writes on
(the first write after a compaction creates chromadb's index writer anew). Prints LEAK and
the step for each step after which a file of the store holds the secret's words.

Run it with DIRTY_HEAP_ENV: one glibc arena (chromadb's threads allocate from the blocks
Python freed) that is never trimmed and serves big blocks from the heap, so they keep what
was freed. With `unprotected`, koe's zeroing of the index's unused room is off (the
test's control)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import koe.memory.chroma.calls as chroma_calls
from koe.config.schema import MemorySettings
from koe.memory.forgetting.forget import forget, select
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore

DIRTY_HEAP_ENV = {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_THRESHOLD_": str(16 << 20),
                  "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SECRET = "The vault code is xylophone-marzipan-8812."
WORDS = (b"xylophone", b"marzipan", b"8812")


def dirty_heap() -> None:
    blocks = [f"{SECRET} ".encode() * 6000 for _ in range(64)]
    del blocks


def report_leaks(path: Path, step: str) -> None:
    if any(word in f.read_bytes() for f in path.rglob("*") if f.is_file() for word in WORDS):
        print(f"LEAK {step}", flush=True)


def main(path: Path, unprotected: bool) -> None:
    if unprotected:
        chroma_calls._zero_rooms = lambda: None
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        store.add_many(
            MemoryRecord(f"m{i}", f"Everyday note number {i} about groceries and chores.",
                         "user", f"c{i // 20}", (T0 + timedelta(minutes=i)).timestamp())
            for i in range(300))
        store.add_turn("user", SECRET, "vault", at=T0)
        dirty_heap()
        report = forget(store, select(store, matching="xylophone marzipan"), compact_after=True)
        report_leaks(path, "compaction")
        dirty_heap()
        assert store.search("vault code", 3) and store.records(conversation="vault") == []
        store.add_turn("user", "The bike is in the shed.", "bike", at=T0)
        report_leaks(path, "next write")
        print(f"FORGOT {report.forgotten}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:] == ["unprotected"])
