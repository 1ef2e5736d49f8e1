"""Echo figures from three aligned 16 kHz signals: what was played (the far end, on the input
timeline), what the microphone heard, and what the canceller left of it.

Pure numpy, no devices: `koe doctor --echo`, the benchmark and the tests all measure alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from koe.voice.audio.files import SAMPLE_RATE

MAX_DELAY_SECONDS = 1.0  # echo searched this far behind what was played
EARLY_SECONDS = 0.1  # and this far ahead of it (the far end placed too late)
MIN_CORRELATION = 0.3  # below this, what the microphone heard is not our echo


def level_db(pcm: np.ndarray) -> float:
    """Mean power relative to int16 full scale, in dB (-120 for silence)."""
    power = float(np.mean(np.square(pcm.astype(np.float64) / 32768.0))) if pcm.size else 0.0
    return float(10.0 * np.log10(max(power, 1e-12)))


def ratio_db(louder: np.ndarray, quieter: np.ndarray) -> float:
    """How many dB `quieter` is below `louder`."""
    return level_db(louder) - level_db(quieter)


@dataclass(frozen=True)
class EchoDelay:
    samples: int  # the echo lags what was played by this much (negative: it came first)
    correlation: float  # normalised, at that lag

    @property
    def ms(self) -> float:
        return 1000.0 * self.samples / SAMPLE_RATE


def echo_delay(heard: np.ndarray, played: np.ndarray) -> EchoDelay:
    """The lag at which `played` best matches `heard` (same timeline, same length)."""
    early, late = round(EARLY_SECONDS * SAMPLE_RATE), round(MAX_DELAY_SECONDS * SAMPLE_RATE)
    x, y = heard.astype(np.float64), played.astype(np.float64)
    n = 1 << (len(x) + len(y) + early + late).bit_length()
    full = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(y, n)), n)
    lags = np.arange(-early, late + 1)
    corr = full[lags % n]
    best = int(lags[int(np.argmax(corr))])
    return EchoDelay(best, _normalised(x, y, best))


def _normalised(x: np.ndarray, y: np.ndarray, lag: int) -> float:
    a, b = (x[lag:], y[: len(x) - lag]) if lag >= 0 else (x[: len(x) + lag], y[-lag:])
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / norm) if norm else 0.0


@dataclass(frozen=True)
class EchoFigures:
    delay_ms: float | None  # None: no echo of what was played was heard
    correlation: float
    return_loss_db: float | None  # echo return loss: how much quieter the echo is than the play
    erle_db: float | None  # echo return loss enhancement: how much the canceller took out
    noise_db: float  # the microphone's level with nothing playing (dBFS)


def echo_figures(played: np.ndarray, heard: np.ndarray, cleaned: np.ndarray,
                 span: tuple[int, int], erle_span: tuple[int, int] | None = None) -> EchoFigures:
    """Figures for a test signal played over `span` (start, end) of the three aligned int16
    signals; the ERLE over `erle_span` of the played signal (default: all of it), which can
    leave out the time the canceller takes to learn the room."""
    start, end = span
    quiet = heard[: max(0, start)]
    noise = level_db(quiet) if quiet.size else -120.0
    delay = echo_delay(heard, played)
    if delay.correlation < MIN_CORRELATION:
        return EchoFigures(None, delay.correlation, None, None, noise)
    lag = delay.samples
    return_loss = ratio_db(played[start:end], heard[start + lag : end + lag])
    lo, hi = erle_span or span
    erle = ratio_db(heard[lo + lag : hi + lag], cleaned[lo + lag : hi + lag])
    return EchoFigures(delay.ms, delay.correlation, return_loss, erle, noise)
