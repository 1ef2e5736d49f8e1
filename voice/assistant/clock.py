"""The loop's clock: where the microphone is. Every time in a turn's report, and every
position barge-in decides on, is on the input stream's clock (seconds of audio since the
microphone started), so a file and a device time alike, and the speaker places its echo on
the same timeline.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from koe.voice.audio.chunks import AudioChunk, AudioSink, AudioSource
from koe.voice.audio.files import SAMPLE_RATE

# The microphone after echo cancellation (identity when there is none).
Cleaner = Callable[[AudioChunk], AudioChunk]


@dataclass
class MicrophoneClock:
    position: int = 0  # stream samples received so far
    received_at: float = 0.0  # loop time when they were

    def now(self) -> float:
        """Seconds on the input stream's clock: where the microphone is now."""
        since = asyncio.get_running_loop().time() - self.received_at
        return self.position / SAMPLE_RATE + max(0.0, since)

    async def follow(self, microphone: AudioSource, speaker: AudioSink, clean: Cleaner
                     ) -> AsyncIterator[AudioChunk]:
        """The microphone's chunks, cleaned, from a clock started afresh; each is noted, and
        the speaker told where the input is (it places what it plays on this timeline)."""
        self.position, self.received_at = 0, asyncio.get_running_loop().time()
        async for chunk in microphone.chunks():
            self.position = chunk.end
            self.received_at = asyncio.get_running_loop().time()
            speaker.sync(chunk.end)
            yield clean(chunk)
