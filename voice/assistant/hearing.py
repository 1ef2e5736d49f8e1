"""Turning utterances into text for the loop: Whisper off the event loop, one call at a time.

Whisper uses every core, so two calls at once only slow each other down; the lock keeps the
question's transcription from queueing behind a read-ahead of the words so far.
"""

from __future__ import annotations

import asyncio

import numpy as np

from koe.voice.audio.files import from_int16
from koe.voice.stt.transcriber import Transcriber

# Whisper pads every input to its window; a 15 s window transcribes short commands the same
# and saves encoder time (10 s or less caused repetition loops).
WINDOW_SECONDS = 15
# Utterances longer than the window are transcribed with the full one.
MAX_SHORT_SAMPLES = (WINDOW_SECONDS - 1) * 16000


class Hearing:
    def __init__(self, transcriber: Transcriber) -> None:
        self.transcriber = transcriber
        self._lock = asyncio.Lock()

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    async def transcribe(self, pcm: np.ndarray) -> str:
        """The words in `pcm` (16 kHz int16); "" for silence or noise."""
        if pcm.size == 0:
            return ""
        async with self._lock:
            return await asyncio.to_thread(self._transcribe, from_int16(pcm))

    def _transcribe(self, audio: np.ndarray) -> str:
        window = WINDOW_SECONDS if audio.size <= MAX_SHORT_SAMPLES else None
        run = self.transcriber.transcribe(audio, window_seconds=window)
        return " ".join(s.text for s in run.segments).strip()
