"""Where the endpoint's input-buffer times fall on koe's input stream.

A Realtime endpoint dates speech by the milliseconds of audio it has been sent
(`audio_start_ms`, `audio_end_ms`). koe does not send everything the microphone hears (not
while it answers), so each append is noted with the stream position it came from, and a
buffer time is mapped back through the append it falls in.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

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
