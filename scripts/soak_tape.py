"""The soak's tape: what the microphone heard, what the speaker played and what the echo
canceller left, written as three 16 kHz WAV files as the soak goes (`soak.py --record`), so a
false or missed barge-in can be looked at, or replayed through another canceller, afterwards.

Written chunk by chunk, never held: an hour of three tracks would otherwise add ~350 MB to the
resident memory the soak measures.
"""

from __future__ import annotations

import contextlib
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from koe.voice.audio.chunks import AudioChunk
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.files import SAMPLE_RATE

TRACKS = ("mic", "played", "cleaned")


class Tape:
    def __init__(self, folder: Path, far: FarEnd, clean: Callable[[AudioChunk], AudioChunk]
                 ) -> None:
        """Wraps `clean` (what the loop calls for every microphone chunk); the tracks start
        at stream position 0, silence where nothing was heard."""
        self.far, self.clean = far, clean
        self._open = contextlib.ExitStack()  # the three files, closed together by close()
        self._files = {name: self._open.enter_context(
            wave.open(str(folder / f"{name}.wav"), "wb"))  # noqa: SIM115
            for name in TRACKS}
        for f in self._files.values():
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(SAMPLE_RATE)
        self._written = 0

    def __call__(self, chunk: AudioChunk) -> AudioChunk:
        cleaned = self.clean(chunk)
        # Silence where no chunk came; a stream that went back (a restarted microphone) is
        # appended as it comes, so the three tracks stay aligned with each other.
        gap = max(0, chunk.position - self._written)
        played = self.far.read_int16(chunk.position, chunk.pcm.size)
        for name, pcm in zip(TRACKS, (chunk.pcm, played, cleaned.pcm), strict=True):
            self._files[name].writeframes(np.zeros(gap, np.int16).tobytes() + pcm.tobytes())
        self._written += gap + chunk.pcm.size
        return cleaned

    def close(self) -> None:
        self._open.close()
