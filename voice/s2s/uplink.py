"""The microphone's way up to a Realtime endpoint, and where the endpoint's times fall.

Audio goes up resampled to 24 kHz in `input_audio_buffer.append` events. The endpoint dates
speech by the milliseconds of audio it has been sent (`audio_start_ms`, `audio_end_ms`); koe
does not send everything the microphone hears (not while it answers), so each append is noted
with the stream position it came from, and a buffer time is mapped back through the append it
falls in.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.resample import StreamResampler
from koe.voice.realtime.events import RATE, encode_audio
from koe.voice.s2s.realtime_connection import RealtimeConnection

KEEP_APPENDS = 4000  # ~2 minutes of 30 ms appends: speech is dated soon after it is sent


@dataclass
class BufferClock:
    sent_ms: float = 0.0  # audio sent so far
    _marks: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=KEEP_APPENDS))

    def sent(self, samples: int, rate: int, stream_seconds: float) -> None:
        """`samples` at `rate` were sent, taken from the stream at `stream_seconds`."""
        self._marks.append((self.sent_ms, stream_seconds))
        self.sent_ms += samples * 1000 / rate

    def stream_seconds(self, buffer_ms: float) -> float | None:
        """The stream time of buffer time `buffer_ms`; None when it is not known."""
        if not self._marks or not isinstance(buffer_ms, int | float):
            return None
        starts = [m[0] for m in self._marks]
        at = bisect.bisect_right(starts, buffer_ms) - 1
        if at < 0:
            return None
        sent_ms, stream = self._marks[at]
        return stream + (buffer_ms - sent_ms) / 1000


class Uplink:
    def __init__(self) -> None:
        self.clock = BufferClock()
        self._resampler = StreamResampler(SAMPLE_RATE, RATE, np.dtype(np.int16))

    async def send(self, conn: RealtimeConnection | None, pcm: np.ndarray, position: int) -> None:
        """Append microphone audio (16 kHz) taken from stream `position`; with no connection
        it is dropped (the resampler still runs, so the stream stays whole)."""
        audio = self._resampler.process(pcm)
        if conn is None or not audio.size:
            return
        await conn.send({"type": "input_audio_buffer.append", "audio": encode_audio(audio)})
        self.clock.sent(audio.size, RATE, position / SAMPLE_RATE)

    def stream_seconds(self, buffer_ms: object) -> float | None:
        return self.clock.stream_seconds(buffer_ms)  # type: ignore[arg-type]
