"""A room for file mode: what the file speaker plays comes back into the file microphone.

    far = FarEnd()
    speaker = FileSpeaker(out_path, far=far)
    mic = FileMicrophone(in_path, room=EchoRoom(far, *parse_echo("120,0.4")))

The echo is the played audio `delay_ms` later, times `gain`, added to the input file: a
speaker heard by the microphone across a room, with nothing else of a room (no reverb, no
noise), so a test knows exactly what the echo was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from koe.config.errors import AudioError
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.files import SAMPLE_RATE

MAX_DELAY_MS = 1000  # well within what the far end keeps (HISTORY_SECONDS)
MAX_GAIN = 4.0
_HINT = ("give DELAY_MS,GAIN: the echo's delay in milliseconds (0-1000) and its gain "
         "(above 0, up to 4; 0.5 is half as loud), e.g. --echo 120,0.4")


@dataclass(frozen=True)
class EchoRoom:
    far: FarEnd  # what the speaker played
    delay_ms: float
    gain: float

    def __post_init__(self) -> None:
        check_echo(self.delay_ms, self.gain, f"{self.delay_ms:g},{self.gain:g}")

    @property
    def delay(self) -> int:
        return round(self.delay_ms * SAMPLE_RATE / 1000)

    def echo(self, position: int, count: int) -> np.ndarray:
        """The echo heard over input [position, position + count), float32."""
        return self.gain * self.far.read(position - self.delay, count)

    def mix(self, pcm: np.ndarray, position: int) -> np.ndarray:
        """Microphone int16 `pcm` at `position` with the echo added (clipped as a mic would)."""
        mixed = pcm.astype(np.float32) + 32768.0 * self.echo(position, len(pcm))
        return np.clip(np.round(mixed), -32768, 32767).astype(np.int16)


def parse_echo(text: str) -> tuple[float, float]:
    """"DELAY_MS,GAIN" -> (delay_ms, gain); AudioError in one line for anything else."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise AudioError(f"--echo '{text}' is not DELAY_MS,GAIN", _HINT)
    try:
        delay_ms, gain = float(parts[0]), float(parts[1])
    except ValueError:
        raise AudioError(f"--echo '{text}': not numbers", _HINT) from None
    check_echo(delay_ms, gain, text)
    return delay_ms, gain


def check_echo(delay_ms: float, gain: float, text: str) -> None:
    if not 0 <= delay_ms <= MAX_DELAY_MS:  # (a nan fails every comparison: refused too)
        raise AudioError(f"--echo '{text}': delay {delay_ms:g} ms is outside "
                         f"0-{MAX_DELAY_MS}", _HINT)
    if not 0 < gain <= MAX_GAIN:
        raise AudioError(f"--echo '{text}': gain {gain:g} is outside (0, {MAX_GAIN:g}]", _HINT)
