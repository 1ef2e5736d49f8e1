"""Test instruments for real sound devices: the virtual devices (koe.voice.audio.virtual) started
from this checkout's script, and test signals.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from koe.voice.audio.virtual import RATE, VirtualAudio
from koe.voice.audio.virtual import start_virtual_audio as start_devices

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "virtual-audio.sh"


@contextmanager
def start_virtual_audio(root: Path) -> Iterator[VirtualAudio]:
    """This checkout's virtual devices, with their state under `root`; stopped on exit."""
    with start_devices(root, SCRIPT) as audio:
        yield audio


# -- signals -------------------------------------------------------------------------------

def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def chirp(f0: float, f1: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    """A linear sweep: no two stretches look alike, so it aligns in one place only."""
    t = np.arange(round(seconds * rate)) / rate
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * seconds))
    return (amplitude * np.sin(phase)).astype(np.float32)


def pcm16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1, 1) * 32767).astype(np.int16)


def align(recorded: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    """Where `reference` sits in `recorded`, and the normalised correlation there."""
    rec = recorded.astype(np.float64)
    ref = reference.astype(np.float64)
    if len(rec) < len(ref):
        return 0, 0.0
    n = 1 << (len(rec) + len(ref)).bit_length()
    corr = np.fft.irfft(np.fft.rfft(rec, n) * np.conj(np.fft.rfft(ref, n)), n)[
        : len(rec) - len(ref) + 1]
    lag = int(np.argmax(corr))
    piece = rec[lag : lag + len(ref)]
    norm = np.linalg.norm(piece) * np.linalg.norm(ref)
    return lag, float(np.dot(piece, ref) / norm) if norm else 0.0


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    x = samples.astype(np.float64) * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.argmax(spectrum) * rate / len(samples))


def loud(samples: np.ndarray, rate: int = RATE, window: float = 0.005,
         threshold: float = 0.05) -> np.ndarray:
    """For each `window`-long stretch, whether it holds sound above `threshold` (of full scale)."""
    size = round(window * rate)
    whole = len(samples) - len(samples) % size
    peaks = np.abs(samples[:whole].astype(np.float32) / 32768).reshape(-1, size).max(axis=1)
    return peaks > threshold
