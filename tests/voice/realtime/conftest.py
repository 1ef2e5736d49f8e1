"""`koe serve` on the packaged models (Qwen for answers that make sense), once for the folder,
and Piper to say the questions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from koe.config.schema import TtsSettings
from koe.voice.llm.server import LocalServer
from koe.voice.tts.synthesizer import PiperSynthesizer
from tests.voice.realtime.helpers import Served, serving, settings_in


@pytest.fixture(scope="session")
def served(qwen_server: LocalServer,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(settings_in(tmp_path_factory.mktemp("serve")), qwen_server) as running:
        yield running


@pytest.fixture(scope="session")
def voice() -> PiperSynthesizer:
    return PiperSynthesizer.load(TtsSettings())
