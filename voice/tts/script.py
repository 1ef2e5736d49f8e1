"""A spoken script: sentences said by the voice with pauses between, as one 16 kHz recording.

File mode takes such a recording as its microphone; tests and benchmarks know from the
script where each sentence's voice ends, so they can measure from there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.resample import resample
from koe.voice.tts.synthesizer import PiperSynthesizer


@dataclass(frozen=True)
class Line:
    text: str
    pause_after: float = 1.0  # seconds of silence after the line


@dataclass(frozen=True)
class SaidLine:
    text: str
    start: float  # seconds in the recording where the voice begins
    end: float  # where it stops


def speak_script(synthesizer: PiperSynthesizer, lines: list[Line], lead_in: float = 1.0
                 ) -> tuple[np.ndarray, list[SaidLine]]:
    """The recording (int16, 16 kHz) and where each line's voice starts and ends."""
    parts = [np.zeros(int(lead_in * SAMPLE_RATE), dtype=np.int16)]
    said: list[SaidLine] = []
    position = len(parts[0])
    for line in lines:
        chunk = synthesizer.speak(line.text)
        pcm = resample(chunk.pcm, chunk.sample_rate, SAMPLE_RATE)
        first, last = (edge / chunk.sample_rate for edge in chunk.voiced)
        said.append(SaidLine(line.text, position / SAMPLE_RATE + first,
                             position / SAMPLE_RATE + last))
        pause = np.zeros(int(line.pause_after * SAMPLE_RATE), dtype=np.int16)
        parts += [pcm, pause]
        position += len(pcm) + len(pause)
    return np.concatenate(parts), said
