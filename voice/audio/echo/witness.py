"""A witness to barge-ins: the raw microphone and what the speaker played, both on the
microphone's clock, so that how soon koe went quiet after someone started talking over it can
be read off afterwards.

What the speaker played is the echo canceller's far end: the device speaker places every
block there at the moment its DAC plays it, and cuts it where playback stopped, so it is
what came out of the speaker, not what koe meant to say.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from koe.voice.audio.chunks import AudioChunk
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.measure import echo_delay
from koe.voice.audio.files import SAMPLE_RATE

SILENCE = 300  # int16 peak (-40 dBFS): below it the speaker is quiet
QUIET_SECONDS = 0.3  # this long below SILENCE: the speaker has stopped
LOOK_SECONDS = 6.0  # how far after the words were sent their onset and the stop are looked for
FOUND = 0.3  # correlation above which the words were found in the microphone


class Witness:
    def __init__(self, far: FarEnd, clean: Callable[[AudioChunk], AudioChunk],
                 keep_seconds: float = 90.0) -> None:
        """Wraps `clean` (the canceller's near end, which the loop calls for every microphone
        chunk) and keeps the last `keep_seconds` of both sides."""
        self.far, self.clean = far, clean
        self.keep = round(keep_seconds * SAMPLE_RATE)
        self._mic: deque[AudioChunk] = deque()
        self._played: deque[AudioChunk] = deque()

    def __call__(self, chunk: AudioChunk) -> AudioChunk:
        self._mic.append(chunk)
        played = self.far.read_int16(chunk.position, chunk.pcm.size)
        self._played.append(AudioChunk(played, chunk.position))
        while chunk.end - self._mic[0].end > self.keep:
            self._mic.popleft()
            self._played.popleft()
        return self.clean(chunk)

    def heard(self, start: int, end: int) -> np.ndarray:
        """The raw microphone over [start, end) (stream samples), silence where not kept."""
        return _span(self._mic, start, end)

    def played(self, start: int, end: int) -> np.ndarray:
        return _span(self._played, start, end)

    def went_quiet(self, words: np.ndarray, sent_at: float, voice_offset: float = 0.0
                   ) -> float | None:
        """Seconds from the onset of `words` (16 kHz int16, sent into the microphone about
        `sent_at` on its clock, their voice `voice_offset` into them) to the speaker going
        quiet; None if the words are not found in the microphone or it never went quiet."""
        lead = round(0.5 * SAMPLE_RATE)
        start = round(sent_at * SAMPLE_RATE) - lead
        end = start + round(LOOK_SECONDS * SAMPLE_RATE)
        heard = self.heard(start, end)
        placed = np.zeros_like(heard)
        placed[lead:lead + words.size] = words[: max(0, placed.size - lead)]
        found = echo_delay(heard, placed)
        if found.correlation < FOUND:
            return None
        onset = start + lead + found.samples + round(voice_offset * SAMPLE_RATE)
        quiet = quiet_from(self.played(onset, end))
        return None if quiet is None else quiet / SAMPLE_RATE


def quiet_from(pcm: np.ndarray) -> int | None:
    """Where the first QUIET_SECONDS without a sound above SILENCE begins, in samples."""
    frame = SAMPLE_RATE // 100
    peaks = np.abs(pcm[: pcm.size // frame * frame].astype(np.int32)).reshape(-1, frame)
    loud = peaks.max(axis=1) > SILENCE
    run = round(QUIET_SECONDS * 100)
    for index in range(loud.size - run + 1):
        if not loud[index:index + run].any():
            return index * frame
    return None


def _span(chunks: deque[AudioChunk], start: int, end: int) -> np.ndarray:
    out = np.zeros(max(0, end - start), dtype=np.int16)
    for chunk in chunks:
        lo, hi = max(start, chunk.position), min(end, chunk.end)
        if lo < hi:
            out[lo - start:hi - start] = chunk.pcm[lo - chunk.position:hi - chunk.position]
    return out
