"""Helpers for the voice-loop tests: spoken questions as files, and what koe said back."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from koe.config.schema import TtsSettings
from koe.voice.audio.files import SAMPLE_RATE, decode_file
from koe.voice.audio.wav import write_wav
from koe.voice.stt.transcriber import Transcriber
from koe.voice.stt.wer import normalise
from koe.voice.tts.script import Line, SaidLine, speak_script
from koe.voice.tts.synthesizer import PiperSynthesizer

_VOICE: list[PiperSynthesizer] = []


def voice() -> PiperSynthesizer:
    """The packaged Piper voice, loaded once per test run."""
    if not _VOICE:
        _VOICE.append(PiperSynthesizer.load(TtsSettings()))
    return _VOICE[0]


def question_file(path: Path, lines: list[Line], noise: np.ndarray | None = None
                  ) -> list[SaidLine]:
    """Write the lines, spoken, to `path` (16 kHz WAV); `noise` is mixed in at the start."""
    pcm, said = speak_script(voice(), lines)
    if noise is not None:
        mixed = pcm.astype(np.int32)
        mixed[: len(noise)] += noise[: len(mixed)].astype(np.int32)
        pcm = np.clip(mixed, -32768, 32767).astype(np.int16)
    write_wav(path, pcm, SAMPLE_RATE)
    return said


def words_said(transcriber: Transcriber, path: Path) -> list[str]:
    """What koe said in a recording, as normalised words."""
    run = transcriber.transcribe(decode_file(path).samples)
    return normalise(" ".join(s.text for s in run.segments))


def first_sound_after(path: Path, seconds: float, level: int = 300) -> float | None:
    """When the recording is first louder than `level` (int16) at or after `seconds`."""
    samples = decode_file(path).samples
    start = int(seconds * SAMPLE_RATE)
    loud = np.flatnonzero(np.abs(samples[start:]) * 32768 > level)
    return (start + int(loud[0])) / SAMPLE_RATE if loud.size else None


def sound_between(path: Path, start: float, end: float, level: int = 300) -> bool:
    """Whether the recording is louder than `level` (int16) anywhere in [start, end)."""
    samples = decode_file(path).samples[int(start * SAMPLE_RATE): int(end * SAMPLE_RATE)]
    return bool(samples.size) and bool((np.abs(samples) * 32768 > level).any())
