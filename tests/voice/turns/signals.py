"""Deterministic test sounds at 16 kHz (float32 in [-1, 1]) and a room to play them in."""

from __future__ import annotations

import numpy as np

from koe.voice.audio.files import to_int16

SR = 16_000


def seconds(s: float) -> int:
    return round(s * SR)


def silence(s: float) -> np.ndarray:
    return np.zeros(seconds(s), dtype=np.float32)


def _band_noise(n: int, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    spectrum[(freqs < lo) | (freqs > hi)] = 0
    noise = np.fft.irfft(spectrum, n)
    return noise / np.max(np.abs(noise))


def click(ms: float, seed: int = 1) -> np.ndarray:
    """A sharp broadband tick (a key, a tap on the mic), near full scale."""
    n = seconds(ms / 1000)
    t = np.arange(n) / SR
    burst = np.random.default_rng(seed).standard_normal(n) * np.exp(-t / 0.005)
    return (0.9 * burst / np.max(np.abs(burst))).astype(np.float32)


def cough(ms: float = 150, seed: int = 2) -> np.ndarray:
    """Band-limited (300-3000 Hz) noise with a fast attack and a decay, like a short cough."""
    n = seconds(ms / 1000)
    t = np.arange(n) / SR
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-t / (ms / 1000 / 2.5))
    return (0.8 * _band_noise(n, 300, 3000, np.random.default_rng(seed)) * envelope).astype(
        np.float32)


def flat_burst(ms: float = 150, seed: int = 3) -> np.ndarray:
    """The harder case of a cough: the same band of noise at full level throughout."""
    noise = _band_noise(seconds(ms / 1000), 300, 3000, np.random.default_rng(seed))
    return (0.5 * noise).astype(np.float32)


def door_slam(seed: int = 4) -> np.ndarray:
    """A decaying low-frequency thump (70 and 110 Hz) with a short broadband crack."""
    t = np.arange(seconds(0.6)) / SR
    thump = (np.sin(2 * np.pi * 70 * t) + 0.5 * np.sin(2 * np.pi * 110 * t)) * np.exp(-t / 0.12)
    crack = np.random.default_rng(seed).standard_normal(t.size) * np.exp(-t / 0.008)
    return (0.4 * thump + 0.4 * crack).clip(-1, 1).astype(np.float32)


def typing(keys: int = 12, per_second: float = 6.0, seed: int = 5) -> np.ndarray:
    gap = silence(1 / per_second - 0.02)
    return np.concatenate([part for k in range(keys) for part in (click(20, seed + k), gap)])


def room(*parts: np.ndarray, noise_db: float | None = -70.0, seed: int = 9) -> np.ndarray:
    """The parts one after another over steady background noise (None: digital silence),
    as int16 PCM."""
    signal = np.concatenate(parts).astype(np.float64)
    if noise_db is not None:
        noise = np.random.default_rng(seed).standard_normal(signal.size)
        signal = signal + noise * 10 ** (noise_db / 20)
    return to_int16(signal.astype(np.float32))
