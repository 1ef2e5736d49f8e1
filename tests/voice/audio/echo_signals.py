"""Speech and measures for the echo tests: Piper's voice as koe's, webrtcvad's verdicts, and the
canceller run over a whole recording."""

from __future__ import annotations

from functools import cache

import numpy as np

from koe.config.schema import ListenSettings, TtsSettings
from koe.voice.audio.chunks import FRAME_SAMPLES, AudioChunk
from koe.voice.audio.echo.canceller import EchoCanceller
from koe.voice.audio.resample import resample
from koe.voice.tts.synthesizer import PiperSynthesizer
from koe.voice.turns.barge_in import BargeInRule
from koe.voice.turns.vad import VadFramer

RATE = 16_000
REPLY = ("Sure. Tomorrow looks mild, with a light wind from the west and a chance of rain "
         "late in the afternoon, so take an umbrella if you go out.")
INTERRUPTION = "Wait, stop, what about the weekend?"


@cache
def _synthesizer() -> PiperSynthesizer:
    return PiperSynthesizer.load(TtsSettings())


@cache
def spoken(text: str) -> tuple[np.ndarray, int]:
    """Piper's int16 audio for `text`, at the voice's own rate."""
    chunk = _synthesizer().speak(text)
    return chunk.pcm, chunk.sample_rate


def spoken_16k(text: str) -> np.ndarray:
    pcm, rate = spoken(text)
    return resample(pcm, rate, RATE)


def voiced(pcm: np.ndarray) -> np.ndarray:
    """webrtcvad's verdict (with koe's level check) for each 30 ms frame."""
    return np.array([f.is_speech for f in VadFramer(2, 30).frames(pcm)], dtype=bool)


def barge_in_at(pcm: np.ndarray) -> int | None:
    """Where the barge-in rule (koe's settings) decides, hearing `pcm` from its start."""
    rule = BargeInRule.from_settings(ListenSettings())
    position = 0
    for frame in VadFramer(2, 30).frames(pcm):
        if rule.process(frame.samples, frame.is_speech, position) is not None:
            return position
        position += frame.samples
    return None


def frames(start: int, end: int) -> slice:
    """The 30 ms frames wholly inside samples [start, end)."""
    return slice(-(-start // FRAME_SAMPLES), end // FRAME_SAMPLES)


def cancel_all(canceller: EchoCanceller, mic: np.ndarray) -> np.ndarray:
    """The canceller over a whole recording, chunk by chunk as a microphone hands it over."""
    return np.concatenate([canceller.near(AudioChunk(mic[i : i + FRAME_SAMPLES], i)).pcm
                           for i in range(0, len(mic), FRAME_SAMPLES)])
