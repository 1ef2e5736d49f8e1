"""Helpers for the speech-to-speech tests: settings for an endpoint, and real Piper speech at
the protocol's 24 kHz."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from koe.config.schema import MemorySettings, S2sSettings, Settings
from koe.voice.audio.files import to_int16
from koe.voice.audio.resample import resample
from tests.voice.assistant.helpers import voice

RATE = 24000


def s2s_settings(tmp_path: Path, url: str, mode: str = "realtime", **s2s: object) -> Settings:
    return Settings(memory=MemorySettings(path=str(tmp_path / "store")),
                    s2s=S2sSettings(mode=mode, url=url, model="fake-model", **s2s))


def spoken(text: str, rate: int = RATE) -> np.ndarray:
    """`text` said by the packaged Piper voice, int16 at `rate`."""
    chunk = voice().speak(text)
    return to_int16(resample(chunk.pcm.astype(np.float32) / 32768, chunk.sample_rate, rate))

