"""Child process for the kill -9 forget test: forgets every memory holding a phrase, with
compaction, saying FORGETTING when it starts and DONE (with the seconds taken) at the end."""

from __future__ import annotations

import sys
import time

from koe.config.schema import MemorySettings
from koe.memory.forgetting.forget import forget, select
from koe.memory.store import MemoryStore


def main(path: str, phrase: str) -> None:
    with MemoryStore.open(MemorySettings(path=path)) as store:
        chosen = select(store, matching=phrase)
        print("FORGETTING", flush=True)
        started = time.perf_counter()
        report = forget(store, chosen, compact_after=True)
        print(f"DONE {report.forgotten} {time.perf_counter() - started:.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
