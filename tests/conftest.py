"""Shared fixtures: an isolated KOE_HOME per test, the shared speech set, a loaded Whisper."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from koe.voice.stt.speech_set import SpeechClip, speech_clips, speech_missing


@pytest.fixture
def speech() -> list[SpeechClip]:
    clips = speech_clips()
    if not clips:
        pytest.skip(speech_missing())
    return clips


@pytest.fixture(autouse=True)
def koe_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data/cache/config folders; no test touches the user's."""
    home = tmp_path_factory.mktemp("koe-home")
    monkeypatch.setenv("KOE_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    for name in list(os.environ):
        if name.startswith("KOE_") and name not in ("KOE_HOME", "KOE_SHARED"):
            monkeypatch.delenv(name)
    return home


@pytest.fixture(scope="session")
def transcriber():
    """The default packaged Whisper (tiny.en), loaded once for the whole run."""
    from koe.config.schema import SttSettings
    from koe.voice.stt.transcriber import Transcriber

    return Transcriber.load(SttSettings())
