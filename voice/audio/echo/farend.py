"""What the speaker played, laid on the microphone's timeline: the echo canceller's reference.

The canceller must see each played sample just before the microphone frame that can first
hold its echo. Arrival order cannot promise that (a device takes audio in bursts, ~200 ms
ahead of the DAC; a file speaker knows a whole sentence in advance), so played audio is
placed at the input stream position (16 kHz samples since the microphone started) where
it is heard, and the canceller reads the reference for exactly the frame it cleans.
Speakers write (`write`, `cut` when stopped); the canceller and the file-mode room read.
"""

from __future__ import annotations

import bisect
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
    # Sorted by start (speakers write in order, so nearly always appended), with the starts
    # alongside for bisecting: a device writes ~100 pieces a second and the canceller reads
    # every 30 ms, so a read must not walk all of them.
    _pieces: list[_Piece] = field(default_factory=list, repr=False)
    _starts: list[int] = field(default_factory=list, repr=False)
    _longest: int = 0  # the longest piece: how far before a position a piece can start
    _read_to: int = 0  # the furthest position read so far
    _written_to: int = 0
    # How often the far end's placement started afresh (a speaker's new output stream): the
    # echo path's timing may have moved by a few tens of ms, which AEC3 re-learns too slowly.
    placements: int = 0

    def write(self, samples: np.ndarray, position: int) -> None:
        """Audio (float32 in [-1, 1] or int16) that is heard from input `position` on."""
        if samples.size == 0:
            return
        if samples.dtype == np.int16:
            samples = samples.astype(np.float32) / 32768.0
        piece = _Piece(position, samples.astype(np.float32, copy=False))
        at = bisect.bisect_right(self._starts, position)
        self._pieces.insert(at, piece)
        self._starts.insert(at, position)
        self._longest = max(self._longest, len(samples))
        self._written_to = max(self._written_to, piece.end)
        self._forget()

    def moved(self) -> None:
        """What is written from now on is placed anew: the echo canceller starts afresh."""
        self.placements += 1

    def cut(self, position: int) -> None:
        """Playback stopped at `position`: what was queued after it is never heard."""
        at = bisect.bisect_left(self._starts, position)
        del self._pieces[at:], self._starts[at:]
        for i in range(self._first(position), at):
            piece = self._pieces[i]
            piece.samples = piece.samples[: max(0, position - piece.start)]
        self._written_to = min(self._written_to, position)

    def read(self, position: int, count: int) -> np.ndarray:
        """float32 audio heard over [position, position + count), pieces that overlap mixed."""
        out = np.zeros(count, dtype=np.float32)
        end = position + count
        for i in range(self._first(position), bisect.bisect_left(self._starts, end)):
            piece = self._pieces[i]
            lo, hi = max(position, piece.start), min(end, piece.end)
            if lo < hi:
                piece_lo, piece_hi = lo - piece.start, hi - piece.start
                out[lo - position : hi - position] += piece.samples[piece_lo:piece_hi]
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

    def _first(self, position: int) -> int:
        """The index of the first piece that can reach `position`."""
        return bisect.bisect_left(self._starts, position - self._longest)

    def _forget(self) -> None:
        floor = max(self._read_to - self.history, self._written_to - self.ahead)
        gone = bisect.bisect_left(self._starts, floor - self._longest)
        while gone < len(self._pieces) and self._pieces[gone].end <= floor:
            gone += 1  # (pieces sorted by start, so only a prefix can go in one sweep)
        if gone:
            del self._pieces[:gone], self._starts[:gone]
