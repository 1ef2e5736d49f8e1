"""Decoding any container/codec to 16 kHz mono, and clear errors for files that are not audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from koe.config.errors import AudioError
from koe.voice.audio.files import SAMPLE_RATE, decode_file, from_int16, to_int16
from tests.audio_files import CODECS, resample, tone, write_audio


@pytest.mark.parametrize("suffix", sorted(CODECS))
@pytest.mark.parametrize(("rate", "channels"), [(48000, 2), (16000, 1)])
def test_decodes_every_container(tmp_path: Path, suffix: str, rate: int, channels: int) -> None:
    path = write_audio(tmp_path / f"tone.{suffix}", tone(2.0, rate), rate, channels)
    audio = decode_file(path)
    # Opus always decodes at 48 kHz, whatever rate went in.
    assert audio.source_rate == (48000 if CODECS[suffix][0] == "libopus" else rate)
    assert audio.source_channels == channels
    assert audio.samples.dtype == np.float32
    assert abs(audio.seconds - 2.0) < 0.1  # codecs add priming/padding of a few ms
    assert not audio.truncated
    # The tone survives: mostly 440 Hz energy at the new rate.
    spectrum = np.abs(np.fft.rfft(audio.samples[: SAMPLE_RATE]))
    assert abs(np.argmax(spectrum) - 440) <= 2


def test_odd_sample_rate_is_resampled(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "odd.wav", tone(1.5, 22050), 22050)
    audio = decode_file(path)
    assert audio.source_rate == 22050
    assert abs(len(audio.samples) - 1.5 * SAMPLE_RATE) < 50


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        decode_file(tmp_path / "nope.wav")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        decode_file(tmp_path / "empty.wav")


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    (tmp_path / "notes.mp3").write_text("shopping list: eggs, milk\n" * 50)
    with pytest.raises(AudioError, match="not a readable audio file"):
        decode_file(tmp_path / "notes.mp3")


def test_folder_is_not_audio(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="folder"):
        decode_file(tmp_path)


def test_truncated_wav_is_flagged_but_decoded(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "cut.wav", tone(10.0, 16000), 16000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    audio = decode_file(path)
    assert audio.truncated
    assert 2.5 < audio.seconds < 4.0
    assert audio.declared_seconds == pytest.approx(10.0, abs=0.1)


def test_truncated_flac_is_flagged(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "cut.flac", tone(10.0, 16000), 16000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    audio = decode_file(path)
    assert audio.truncated
    assert audio.seconds < 8.0


@pytest.mark.parametrize("keep", [44, 12])
def test_header_only_wav_is_an_error(tmp_path: Path, keep: int) -> None:
    path = write_audio(tmp_path / "cut.wav", tone(1.0, 16000), 16000)
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(AudioError, match=r"not a readable audio file|no audio samples"):
        decode_file(path)


def test_int16_round_trip() -> None:
    samples = resample(tone(0.5, 8000), 8000, 16000)
    assert np.allclose(from_int16(to_int16(samples).tobytes()), samples, atol=1e-4)
