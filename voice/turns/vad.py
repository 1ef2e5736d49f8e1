"""webrtcvad framing: PCM chunks of any length in, whole 10/20/30 ms frames with a verdict out.

A frame is speech when webrtcvad says so (listening through the rumble filter, see highpass.py)
and its speech band stands above the room's floor (see level.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import webrtcvad

from koe.voice.turns.highpass import HighPass
from koe.voice.turns.level import LevelGate
from koe.voice.turns.pcm import SAMPLE_RATE, SAMPLE_WIDTH, Pcm, as_pcm_bytes

FRAME_MS = (10, 20, 30)  # the only lengths webrtcvad accepts


@dataclass(frozen=True, slots=True)
class VadFrame:
    pcm: bytes  # the original audio (little-endian int16), not the filtered copy the VAD heard
    is_speech: bool  # the verdict: webrtcvad and the level check agree
    vad_speech: bool  # webrtcvad's verdict alone
    level_db: float  # speech-band level, dB relative to int16 full scale

    @property
    def samples(self) -> int:
        return len(self.pcm) // SAMPLE_WIDTH


class VadFramer:
    """Cuts a 16 kHz int16 stream into frames and asks webrtcvad about each.

    The remainder shorter than a frame waits for the next chunk, so callers may feed whatever
    size their audio source delivers.
    """

    def __init__(self, aggressiveness: int = 2, frame_ms: int = 30) -> None:
        if aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"VAD aggressiveness must be 0-3, got {aggressiveness}")
        if frame_ms not in FRAME_MS:
            raise ValueError(f"VAD frame must be 10, 20 or 30 ms, got {frame_ms}")
        self.aggressiveness = aggressiveness
        self.frame_ms = frame_ms
        self.frame_samples = SAMPLE_RATE * frame_ms // 1000
        self._frame_bytes = self.frame_samples * SAMPLE_WIDTH
        self._pending = bytearray()
        self._highpass = HighPass()
        self._vad = webrtcvad.Vad(aggressiveness)
        self._gate = LevelGate(self.frame_samples)

    @property
    def pending_samples(self) -> int:
        """Samples received but not yet part of a whole frame."""
        return len(self._pending) // SAMPLE_WIDTH

    def frames(self, pcm: Pcm) -> list[VadFrame]:
        """Every whole frame completed by this chunk, in order."""
        self._pending += as_pcm_bytes(pcm)
        whole = len(self._pending) - len(self._pending) % self._frame_bytes
        out = []
        for offset in range(0, whole, self._frame_bytes):
            frame = bytes(self._pending[offset : offset + self._frame_bytes])
            samples = np.frombuffer(frame, dtype="<i2")
            vad_speech = self._vad.is_speech(self._highpass(samples).tobytes(), SAMPLE_RATE)
            level = self._gate.level_db(samples)
            loud = self._gate.loud_enough(level)
            out.append(VadFrame(frame, vad_speech and loud, vad_speech, level))
        del self._pending[:whole]
        return out

    def reset(self) -> None:
        """Drop the partial frame and start webrtcvad afresh (its model adapts to what it
        heard, which a reset must not carry over). The level floor is kept: it describes the
        room, not the turn, and without it speech right after a reset would go unheard."""
        self._pending.clear()
        self._highpass.reset()
        self._vad = webrtcvad.Vad(self.aggressiveness)
