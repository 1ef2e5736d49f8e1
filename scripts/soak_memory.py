"""Resident memory from /proc: the soak's (koe's and its language model server's) and the
benchmarks'."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MemorySample:
    turns: int
    koe_mb: float  # the soak's own process: koe's loop, models and the soak's voices
    server_mb: float  # every child process: the language model server


def sample(pid: int, turns: int) -> MemorySample:
    # Each process read once: koe's size read twice and subtracted would move its swings
    # between now and the second read into the server's column.
    return MemorySample(turns, rss_mb(pid), rss_mb(*descendants(pid)))


def rss_mb(*pids: int) -> float:
    """Resident memory of `pids` together, in MB (a process that has ended counts nothing)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def descendants(pid: int) -> list[int]:
    found = []
    try:
        children = [(task / "children").read_text().split()
                    for task in Path(f"/proc/{pid}/task").iterdir()]
    except FileNotFoundError:  # it ended while being looked at (the soak's own pactl do)
        return []
    for child in (int(c) for listed in children for c in listed):
        found += [child, *descendants(child)]
    return found
