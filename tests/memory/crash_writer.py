"""Child process for the kill -9 test: writes batches of turns, acknowledging each on stdout
only after MemoryStore has returned (the promise: durable when the call returns)."""

from __future__ import annotations

import sys

from koe.config.schema import MemorySettings
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore

BATCH = 40


def main(path: str) -> None:
    store = MemoryStore.open(MemorySettings(path=path))
    batch = 0
    while True:
        records = [MemoryRecord(f"b{batch}-{i}", f"burst {batch} turn {i}: the kettle is on",
                                "user", f"burst-{batch}", 1.7e9 + batch * 100 + i)
                   for i in range(BATCH)]
        store.add_many(records)
        single = store.add_turn("user", f"single turn after burst {batch}", "singles")
        print(f"ACK {batch} {single.id}", flush=True)
        batch += 1


if __name__ == "__main__":
    main(sys.argv[1])
