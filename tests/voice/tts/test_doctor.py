"""`koe doctor` on the voice setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from koe.config.schema import Settings, TtsSettings
from koe.voice.tts.doctor import tts_checks

pytestmark = pytest.mark.slow


def test_packaged_voice_is_healthy() -> None:
    [check] = tts_checks(Settings())
    assert check.ok, check
    assert "22050 Hz" in check.detail


def test_missing_voice_is_reported_with_a_hint(tmp_path: Path) -> None:
    missing = tmp_path / "gone.onnx"
    [check] = tts_checks(Settings(tts=TtsSettings(voice=str(missing))))
    assert not check.ok
    assert str(missing) in check.detail and check.hint
