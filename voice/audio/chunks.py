"""What flows between the sound devices and the loop: 16 kHz chunks in, played reports out.

A microphone (device or file) yields `AudioChunk`s: 16 kHz mono int16, each tagged with its
position in the input stream (samples since the microphone started), so a stage between mic
and VAD (an echo canceller) can keep its own timeline. A speaker (device or file) answers
every `play()` with a `Played` report: how many of the chunk's samples reached the device.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, Self

import numpy as np

from koe.voice.audio.files import SAMPLE_RATE

FRAME_SAMPLES = 480  # 30 ms at 16 kHz: what the VAD takes; a multiple of the AEC's 10 ms


@dataclass(frozen=True)
class AudioChunk:
    pcm: np.ndarray  # int16, mono, SAMPLE_RATE
    position: int  # stream sample index of pcm[0]
    # The echo canceller judged what is left in it koe's own echo (see echo/leak.py): no one
    # is talking over koe in it, though its audio is kept as it is for the words around it.
    echo: bool = False

    @property
    def end(self) -> int:
        return self.position + len(self.pcm)

    @property
    def seconds(self) -> float:
        return len(self.pcm) / SAMPLE_RATE


@dataclass(frozen=True)
class Played:
    """What became of one `play()`: `played` of its `samples` (at `sample_rate`) were heard."""

    tag: object
    samples: int
    played: int
    sample_rate: int

    @property
    def complete(self) -> bool:
        return self.played >= self.samples

    @property
    def seconds(self) -> float:
        return self.played / self.sample_rate


class AudioSource(Protocol):
    """A microphone: `async with mic: async for chunk in mic.chunks(): ...`."""

    position: int  # samples yielded so far

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    def chunks(self) -> AsyncIterator[AudioChunk]: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...


class AudioSink(Protocol):
    """A speaker that can be interrupted and says what it played."""

    @property
    def playing(self) -> bool: ...
    def sync(self, position: int) -> None: ...
    def play(self, pcm: np.ndarray, sample_rate: int,
             tag: object = None) -> asyncio.Future[Played]: ...
    async def stop(self) -> list[Played]: ...
    async def drained(self) -> None: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...


@dataclass
class Framer:
    """Cuts a stream of int16 pieces of any length into frames of `size`, with positions."""

    size: int = FRAME_SAMPLES
    position: int = 0  # of the next frame
    _pending: list[np.ndarray] = field(default_factory=list, repr=False)
    _count: int = 0

    def push(self, pcm: np.ndarray) -> list[AudioChunk]:
        if pcm.size:
            self._pending.append(pcm)
            self._count += pcm.size
        if self._count < self.size:
            return []
        joined = np.concatenate(self._pending)
        whole = len(joined) - len(joined) % self.size
        frames = []
        for start in range(0, whole, self.size):
            frames.append(AudioChunk(joined[start : start + self.size], self.position))
            self.position += self.size
        rest = joined[whole:]
        self._pending, self._count = ([rest] if rest.size else []), rest.size
        return frames
