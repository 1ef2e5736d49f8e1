"""One loaded packaged Piper voice for the whole run, warmed up."""

from __future__ import annotations

import pytest

from koe.config.schema import TtsSettings
from koe.voice.tts.synthesizer import PiperSynthesizer


@pytest.fixture(scope="session")
def synthesizer() -> PiperSynthesizer:
    synthesizer = PiperSynthesizer.load(TtsSettings())
    synthesizer.warm_up()
    return synthesizer
