"""Child process for the index crash tests: changes one memory ("target") and stops for good
between chromadb's write and the search index's, saying BETWEEN; the test kills it there.

    crash_indexer.py STORE add TEXT    store TEXT as memory "target"
    crash_indexer.py STORE forget      delete memory "target"

The pause wraps the real SearchIndex.apply in this process only: every write before it ran
for real, and the kill that follows is a real kill -9.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from koe.config.schema import MemorySettings
from koe.memory.index.index import SearchIndex
from koe.memory.store import MemoryStore

TARGET = "target"


def pause_before_the_index() -> None:
    apply = SearchIndex.apply

    def paused(self: SearchIndex, rows: Sequence, removed: Sequence[str] = (),
               finished: Sequence[str] = ()) -> None:
        if TARGET in finished:
            print("BETWEEN", flush=True)
            time.sleep(600)
        apply(self, rows, removed, finished)

    SearchIndex.apply = paused  # type: ignore[method-assign]


def main(path: str, action: str, text: str = "") -> None:
    store = MemoryStore.open(MemorySettings(path=path))
    pause_before_the_index()
    if action == "add":
        store.add_turn("user", text, "crash", id=TARGET)
    else:
        store.delete([TARGET])
    print("NOT PAUSED", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
