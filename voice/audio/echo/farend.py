"""What the speaker played, laid on the microphone's timeline: the echo canceller's reference.

The canceller must see each played sample just before the microphone frame that can first
hold its echo. Arrival order cannot promise that (a device takes audio in bursts, ~200 ms
ahead of the DAC; a file speaker knows a whole sentence in advance), so played audio is
placed at the input stream position (16 kHz samples since the microphone started) where
it is heard, and the canceller reads the reference for exactly the frame it cleans.
Speakers write (`write`, `cut` when stopped); the canceller and the file-mode room read.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from koe.voice.audio.files import SAMPLE_RATE

HISTORY_SECONDS = 3.0  # kept behind the furthest read: the room's echo delay reads back
AHEAD_SECONDS = 120.0  # kept behind the furthest write, in case nothing reads


@dataclass
class _Piece:
    start: int  # input stream position of samples[0]
    samples: np.ndarray  # float32, 16 kHz

    @property
    def end(self) -> int:
        return self.start + len(self.samples)


@dataclass
class FarEnd:
    """Played audio at 16 kHz, keyed by input stream position; silence where nothing played."""

    history: int = round(HISTORY_SECONDS * SAMPLE_RATE)
    ahead: int = round(AHEAD_SECONDS * SAMPLE_RATE)
    _pieces: deque[_Piece] = field(default_factory=deque, repr=False)
    _read_to: int = 0  # the furthest position read so far
    _written_to: int = 0

    def write(self, samples: np.ndarray, position: int) -> None:
        """Audio (float32 in [-1, 1] or int16) that is heard from input `position` on."""
        if samples.size == 0:
            return
        if samples.dtype == np.int16:
            samples = samples.astype(np.float32) / 32768.0
        self._pieces.append(_Piece(position, samples.astype(np.float32, copy=False)))
        self._written_to = max(self._written_to, position + len(samples))
        self._forget()

    def cut(self, position: int) -> None:
        """Playback stopped at `position`: what was queued after it is never heard."""
        kept: deque[_Piece] = deque()
        for piece in self._pieces:
            if piece.start < position:
                kept.append(_Piece(piece.start, piece.samples[: position - piece.start]))
        self._pieces = kept
        self._written_to = min(self._written_to, position)

    def read(self, position: int, count: int) -> np.ndarray:
        """float32 audio heard over [position, position + count), pieces that overlap mixed."""
        out = np.zeros(count, dtype=np.float32)
        end = position + count
        for piece in self._pieces:
            if piece.end <= position or piece.start >= end:
                continue
            lo, hi = max(position, piece.start), min(end, piece.end)
            out[lo - position : hi - position] += piece.samples[lo - piece.start : hi - piece.start]
        if end > self._read_to:
            self._read_to = end
            self._forget()
        return out

    def read_int16(self, position: int, count: int) -> np.ndarray:
        audio = self.read(position, count)
        return (np.clip(audio, -1.0, 32767 / 32768) * 32768.0).astype(np.int16)

    @property
    def written_to(self) -> int:
        """The input position just after the last sample written (0 before any)."""
        return self._written_to

    def _forget(self) -> None:
        floor = max(self._read_to - self.history, self._written_to - self.ahead)
        while self._pieces and self._pieces[0].end <= floor:
            self._pieces.popleft()
