"""kill -9 in the middle of a burst of writes: every acknowledged write is there after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings
from koe.memory.store import MemoryStore

HERE = Path(__file__).parent


# Each acknowledgement is 41 entries; chromadb saves its vector index every 1,000. After 23
# acks the next batch crosses the first save (the delay aims the kill into it); after 30
# the kill lands between saves, with ~230 entries only in the write-ahead log.
@pytest.mark.parametrize(("acks_before_kill", "delay"), [(23, 0.15), (30, 0.0)])
def test_acknowledged_writes_survive_kill_9(tmp_path: Path, acks_before_kill: int,
                                            delay: float) -> None:
    path = tmp_path / "store"
    child = subprocess.Popen([sys.executable, str(HERE / "crash_writer.py"), str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=HERE.parents[1],
                             env={**os.environ, "PYTHONPATH": str(HERE.parents[1])})
    acked: list[tuple[int, str]] = []
    deadline = time.monotonic() + 180
    try:
        assert child.stdout is not None
        for line in child.stdout:
            _, batch, single = line.split()
            acked.append((int(batch), single))
            if len(acked) >= acks_before_kill or time.monotonic() > deadline:
                break
        time.sleep(delay)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert len(acked) == acks_before_kill, child.stderr.read() if child.stderr else ""

    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        wanted = [f"b{b}-{i}" for b, _ in acked for i in range(40)] + [s for _, s in acked]
        found = {r.id for r in store.get(wanted)}
        assert set(wanted) <= found
        # The vector index replayed them too: a late acknowledged turn is findable.
        last_batch, last_single = acked[-1]
        hits = store.search(f"single turn after burst {last_batch}", 3)
        assert last_single in [h.record.id for h in hits]
        hits = store.search(f"burst {last_batch} turn 7: the kettle is on", 1)
        assert hits[0].record.conversation == f"burst-{last_batch}"
