"""16-bit mono WAV files: written whole (no half file is ever left), and read back."""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path

import numpy as np

from koe.config.errors import AudioError


def wav_bytes(pcm: np.ndarray, sample_rate: int) -> bytes:
    """int16 mono samples as the bytes of a WAV file."""
    if pcm.dtype != np.int16 or pcm.ndim != 1:
        raise TypeError(f"a WAV file takes 1-D int16 samples, got {pcm.ndim}-D {pcm.dtype}")
    out = io.BytesIO()
    with wave.open(out, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.astype("<i2").tobytes())
    return out.getvalue()


def write_wav(path: str | Path, pcm: np.ndarray, sample_rate: int) -> Path:
    """Write int16 mono samples; replaces `path` only once the file is complete."""
    path = Path(path)
    data = wav_bytes(pcm, sample_rate)
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise AudioError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    return path


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """A 16-bit mono WAV file as (int16 samples, sample rate)."""
    with wave.open(str(path), "rb") as f:
        if f.getnchannels() != 1 or f.getsampwidth() != 2:
            raise AudioError(f"{path}: not a 16-bit mono WAV file")
        return np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.int16), \
            f.getframerate()
