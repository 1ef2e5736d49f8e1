"""A loudness check on top of webrtcvad: is the frame's speech band above the room's floor?

webrtcvad keeps saying "speech" for several frames after any sound stops (its hangover), and
in a quiet room it says so for hissy or thumping sounds too. Measured at 30 ms frames in a
-70 dBFS room: a 10-50 ms click was voiced for 180-210 ms, a 150 ms cough-like burst for
330 ms (more than the 250 ms that starts a turn), a door thump for 420 ms, and typing at five
keys a second started a turn. Requiring the 300-4000 Hz band (where formants live; a thump has
next to nothing there) to stand `margin_db` above the quietest frame of the last few seconds
cut those to 30-60, 180 and 60 ms and no turn, while every clip of the shared speech set still
made one turn. 3 dB was already enough in those tests; 4.5 dB leaves headroom (the minimum
sits a couple of dB under the average noise frame) without losing quiet syllables.

The floor is a minimum over recent frames, so it follows the room down at once and up within
`floor_seconds`; a sudden lasting rise in background noise passes the check until then.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from koe.voice.turns.pcm import SAMPLE_RATE

BAND_HZ = (300.0, 4000.0)
MARGIN_DB = 4.5
FLOOR_SECONDS = 3.0
_SILENT_DB = -120.0  # what digital silence measures, instead of log(0)


class LevelGate:
    def __init__(self, frame_samples: int, margin_db: float = MARGIN_DB,
                 floor_seconds: float = FLOOR_SECONDS) -> None:
        self.margin_db = margin_db
        self._window = np.hanning(frame_samples)
        freqs = np.fft.rfftfreq(frame_samples, 1 / SAMPLE_RATE)
        self._band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
        # Parseval for a Hann-windowed one-sided spectrum, scaled to int16 full scale.
        self._scale = 2.0 / (frame_samples * float(np.sum(self._window**2)) * 32768.0**2)
        frames = max(1, round(floor_seconds * SAMPLE_RATE / frame_samples))
        self._levels: deque[float] = deque(maxlen=frames)

    def level_db(self, frame: np.ndarray) -> float:
        """Mean power in the speech band, dB relative to int16 full scale."""
        spectrum = np.fft.rfft(frame.astype(np.float64) * self._window)
        power = float(np.sum(np.abs(spectrum[self._band]) ** 2)) * self._scale
        return max(10.0 * np.log10(power), _SILENT_DB) if power > 0 else _SILENT_DB

    def floor_db(self) -> float | None:
        return min(self._levels) if self._levels else None

    def loud_enough(self, level_db: float) -> bool:
        """Judge one frame's level against the floor, then add it to the history.

        With no history yet (the very first frame) there is no floor to judge against, and
        the frame passes: the check only ever narrows webrtcvad's verdict.
        """
        floor = self.floor_db()
        self._levels.append(level_db)
        return floor is None or level_db >= floor + self.margin_db
