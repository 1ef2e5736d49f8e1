"""A speaker's bookkeeping: how far the device has played, and so what each chunk got to play.

`Playhead`: the device clock says when each written block reaches the DAC; from that, how many
device samples have been heard at any moment. `Ledger`: each `play()` chunk occupies a range of
the device's sample stream (after resampling); from the heard count it makes a `Played` report
per chunk and resolves the chunk's future once it is wholly heard, or cut.
Pure bookkeeping, no I/O: both live on the event loop only.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

from koe.voice.audio.chunks import Played


class _Block(NamedTuple):
    start: int  # device sample index
    frames: int
    dac_time: float  # device clock time at which `start` reaches the DAC


class Playhead:
    """Device samples written so far, and when each reaches the DAC (in device clock time)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.written = 0
        self._blocks: deque[_Block] = deque()

    def wrote(self, frames: int, dac_time: float) -> None:
        self._blocks.append(_Block(self.written, frames, dac_time))
        self.written += frames

    def heard(self, now: float) -> int:
        """Device samples that had reached the DAC at device time `now`."""
        while self._blocks and self._end_time(self._blocks[0]) <= now:
            self._blocks.popleft()  # wholly heard: forgotten
        if not self._blocks:
            return self.written
        first = self._blocks[0]
        played = int((now - first.dac_time) * self.rate + 1e-6)  # (1e-6: float rounding)
        return first.start + max(0, min(first.frames, played))

    def time_of(self, sample: int) -> float | None:
        """When the first `sample` device samples will all have been heard; None if they are
        not all written yet. Long heard ones give 0."""
        if sample > self.written:
            return None
        for block in self._blocks:
            if block.start < sample <= block.start + block.frames:
                return block.dac_time + (sample - block.start) / self.rate
        return 0.0

    def reset(self) -> None:
        self.written = 0
        self._blocks.clear()

    def _end_time(self, block: _Block) -> float:
        return block.dac_time + block.frames / self.rate


@dataclass
class Entry:
    tag: object
    samples: int  # at sample_rate, as queued
    sample_rate: int
    start: int  # device sample range [start, end)
    end: int
    final: bool  # end is exact: nothing of this chunk is still held back by a resampler
    future: asyncio.Future[Played]

    def played(self, heard: int) -> int:
        if heard >= self.end and self.final:
            return self.samples
        span = self.end - self.start
        if span <= 0 or heard <= self.start:
            return 0
        # Until final, the end of the chunk is still inside the resampler: not all heard yet.
        limit = self.samples if self.final else self.samples - 1
        return min(limit, round((heard - self.start) * self.samples / span))

    def report(self, heard: int) -> Played:
        return Played(self.tag, self.samples, self.played(heard), self.sample_rate)


class Ledger:
    def __init__(self) -> None:
        self.entries: deque[Entry] = deque()

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, tag: object, samples: int, sample_rate: int, start: int, end: int,
            final: bool) -> asyncio.Future[Played]:
        future: asyncio.Future[Played] = asyncio.get_running_loop().create_future()
        if samples == 0:
            future.set_result(Played(tag, 0, 0, sample_rate))
        else:
            self.entries.append(Entry(tag, samples, sample_rate, start, end, final, future))
        return future

    def finalize(self, end: int | None = None) -> None:
        """The last open chunk's output is complete (its resampler was flushed) and ends at
        `end` (default: where it was estimated to end)."""
        for entry in reversed(self.entries):
            if entry.final:
                break
            entry.final = True
            if end is not None:
                entry.end = max(entry.start, end)

    def next_end(self) -> int | None:
        """The device sample index at which the oldest chunk will be wholly heard, once known."""
        if self.entries and self.entries[0].final:
            return self.entries[0].end
        return None

    def settle(self, heard: int) -> list[Played]:
        """Resolve every chunk now wholly heard; returns their reports, oldest first."""
        done = []
        while self.entries and self.entries[0].final and heard >= self.entries[0].end:
            entry = self.entries.popleft()
            done.append(_resolve(entry, entry.report(heard)))
        return done

    def cut(self, heard: int) -> list[Played]:
        """Playback stopped with `heard` device samples heard: resolve every chunk left."""
        done = [_resolve(entry, entry.report(heard)) for entry in self.entries]
        self.entries.clear()
        return done


def _resolve(entry: Entry, played: Played) -> Played:
    if not entry.future.done():
        entry.future.set_result(played)
    return played
