"""Echo the canceller let through, told from a user talking over koe.

AEC3 leaves next to nothing of koe's voice once it has the room, but now and then it loses it
for a few hundred ms: at the start of a reply, or when its own estimate of the echo's delay
wanders. Recorded on the virtual devices: the echo reached the microphone 126 ms behind the far
end throughout, while for 0.3 s the canceller's output matched the far end 140-175 ms behind,
only 8-20 dB below the microphone. Such a burst is loud enough for the VAD: a false barge-in,
and at times koe's own words taken for a question. So, while koe plays, a chunk of the
canceller's output is judged echo (and barge-in hears silence there) when
- it looks like what was played: what leaks is a copy of the far end, so it correlates with
  it near the echo's delay, and the user's voice does not. Over 90 ms, the best correlation
  within -10..+60 ms of the delay had a median of 0.55 in the leaks of soak recordings, and
  was above 0.4 on 6 % of the chunks of a user's sentence laid over a reply in the same Piper
  voice (the hardest case: one voice's vowels look alike at some lag), above 0.5 on 2.5 %.
  Hence SURE at once, or LEAK twice running (chance rarely does it twice): over 12 renderings
  of that test, 0.4 % of the user's chunks were taken for echo (at most 5 % in one);
- or the raw microphone is a near-perfect copy of the far end there (ALONE: koe's echo and
  nothing else: AEC3 had removed 0-5 dB of it in the three false barge-ins of a 200-turn
  soak that the other rules let through);
- or it is far below the microphone (REMOVED_DB: AEC3 turns a talking user down 3-10 dB, not
  30), or too quiet for anyone talking over koe (QUIETEST_VOICE: the canceller's remains
  measured -60 to -95 dBFS, and webrtcvad, next to digital silence, calls them speech).
Everything else passes untouched, so a user talking over koe is not turned down as a
double-talk gate on levels would (one tried kept only 28-42 % of a user's voiced frames while
both spoke). `scripts/replay_barge_in.py` on four recorded soaks (261 turns): 24 false
barge-ins replayed without the check, 2 with it (both a user's words after a story that had
already ended, which the replay cannot tell from a reply); all 23 real interruptions heard,
decided a median 150 ms after the user's onset.

The echo's delay is read off the raw microphone: whenever it is a near copy of the far end
(koe talking alone), the lag is noted. Where the raw echo never matches that well (a
reverberant room), no delay is known and only the level rules apply.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.files import SAMPLE_RATE

WINDOW = 1440  # 90 ms: the chunk being judged and the two before it
LONGEST_DELAY = round(0.6 * SAMPLE_RATE)  # echo delays looked for (AEC3 finds up to ~0.5 s)
CONFIDENT = 0.9  # the raw microphone matches the far end this well: its lag is the delay
ALONE = 0.99  # this well: the microphone holds koe's echo and nothing else (a user 17 dB
# under the echo would already bring it down to 0.99)
DELAY_NOTES = 15  # the delay is the median of this many recent notes
EARLY = round(0.01 * SAMPLE_RATE)  # a leak is looked for this far before the delay
LATE = round(0.06 * SAMPLE_RATE)  # and this far after (leaks matched 4-58 ms late)
SURE = 0.6  # the output matches the far end this well: it is echo
LEAK = 0.45  # this well, twice running: it is echo too (a user's voice does it once, by chance)
# The output this far below the microphone is what the canceller left of the echo: a user
# talking over koe loses 3-10 dB to AEC3, not 30 (and webrtcvad, after near-silence, calls
# even a -85 dBFS remnant speech).
REMOVED_DB = 30.0
# Nor is anyone talking over koe this quietly (speech at a microphone is -40 to -20 dBFS):
# output below it while koe plays is the canceller's remains (measured: -60 to -69 dBFS,
# uncorrelated with the far end, and webrtcvad called it speech).
QUIETEST_VOICE = (32768 * 10 ** (-60 / 20)) ** 2  # power of -60 dBFS, in int16 units
QUIET = 1e-3  # far end peak below this (-60 dBFS): nothing played, nothing to leak


@dataclass
class LeakDetector:
    """Feed every microphone chunk with the canceller's output for it; says which outputs are
    echo the canceller let through."""

    far: FarEnd
    lag: int = 0  # the echo path's bulk delay in samples, as the canceller reads the far end
    _raw: np.ndarray = field(default_factory=lambda: np.zeros(WINDOW), repr=False)
    _out: np.ndarray = field(default_factory=lambda: np.zeros(WINDOW), repr=False)
    _end: int = 0  # stream position just after the last chunk
    _delays: deque[int] = field(default_factory=lambda: deque(maxlen=DELAY_NOTES), repr=False)
    _placements: int = 0
    _matched: bool = False  # the last chunk's output matched the far end (>= LEAK)

    @property
    def delay(self) -> int | None:
        """The echo's delay behind the far end, in samples, if known."""
        return int(np.median(self._delays)) if self._delays else None

    def leaked(self, raw: np.ndarray, out: np.ndarray, position: int) -> bool:
        """Is `out` (the canceller's output for the microphone chunk `raw`, heard from stream
        `position`) echo that got through?"""
        if position != self._end:  # audio skipped: the windows start afresh
            self._raw[:], self._out[:] = 0, 0
        self._end = position + len(raw)
        self._raw = _slide(self._raw, raw)
        self._out = _slide(self._out, out)
        matched_before, self._matched = self._matched, False
        if self.far.placements != self._placements:
            self._placements = self.far.placements  # a new output stream: the delay may move
            self._delays.clear()
        far = self.far.read(self._end - self.lag - WINDOW - LONGEST_DELAY,
                            WINDOW + LONGEST_DELAY).astype(np.float64)
        if np.abs(far).max() < QUIET:
            return False
        match = _Matcher(far)
        raw_match = match(self._raw)
        best = int(np.argmax(raw_match))
        if raw_match[best] >= CONFIDENT:
            self._delays.append(best)
        if raw_match[best] >= ALONE:
            return True
        power = _power(out)
        if power < QUIETEST_VOICE or power < _power(raw) * 10 ** (-REMOVED_DB / 10):
            return True
        delay = self.delay
        if delay is None:
            return False
        near = match(self._out)[max(0, delay - EARLY):delay + LATE + 1]
        likeness = float(near.max()) if near.size else 0.0
        self._matched = likeness >= LEAK
        return likeness >= SURE or (self._matched and matched_before)


class _Matcher:
    """Normalised correlation of a WINDOW of the microphone's timeline with the far end at
    every delay 0..LONGEST_DELAY (one FFT of the far end, shared by both signals)."""

    def __init__(self, far: np.ndarray) -> None:
        self.size = 1 << (len(far) + WINDOW).bit_length()
        self.spectrum = np.fft.rfft(far, self.size)
        power = np.concatenate([[0.0], np.cumsum(far * far)])
        # far[m:m + WINDOW] is what was played `LONGEST_DELAY - m` samples before the window
        energy = power[WINDOW:WINDOW + LONGEST_DELAY + 1] - power[:LONGEST_DELAY + 1]
        self.norms = np.sqrt(np.maximum(energy, 1e-12))[::-1]

    def __call__(self, signal: np.ndarray) -> np.ndarray:
        """Index k: the match of `signal` with what was played k samples before it."""
        norm = float(np.linalg.norm(signal))
        if norm == 0.0:
            return np.zeros(LONGEST_DELAY + 1)
        products = np.fft.irfft(self.spectrum * np.conj(np.fft.rfft(signal, self.size)),
                                self.size)[:LONGEST_DELAY + 1][::-1]
        return np.abs(products) / (self.norms * norm)


def _power(pcm: np.ndarray) -> float:
    return float(np.mean(np.square(pcm.astype(np.float64)))) if pcm.size else 0.0


def _slide(window: np.ndarray, chunk: np.ndarray) -> np.ndarray:
    """The last WINDOW samples of `window` followed by `chunk` (as float64)."""
    return np.concatenate([window, chunk.astype(np.float64)])[-WINDOW:]
