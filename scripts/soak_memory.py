"""The soak's resident memory, koe's and its language model server's, from /proc."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MemorySample:
    turns: int
    koe_mb: float  # the soak's own process: koe's loop, models and the soak's voices
    server_mb: float  # every child process: the language model server


def sample(pid: int, turns: int) -> MemorySample:
    koe = rss_mb(pid, children=False)
    return MemorySample(turns, koe, rss_mb(pid) - koe)


def rss_mb(pid: int, children: bool = True) -> float:
    """Resident memory of `pid` and (with `children`) all its descendants, in MB."""
    total = 0
    for p in [pid, *(descendants(pid) if children else [])]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
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
    except FileNotFoundError:  # it ended while being looked at (the soak's own pacat do)
        return []
    for child in (int(c) for listed in children for c in listed):
        found += [child, *descendants(child)]
    return found
