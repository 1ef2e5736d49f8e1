"""Resampling between any rates, whole or in chunks of any size, without clicks."""

from __future__ import annotations

import numpy as np
import pytest

from koe.voice.audio.resample import StreamResampler, resample
from tests.voice.audio.instruments import dominant_frequency, tone

RATE_PAIRS = [(44100, 16000), (48000, 16000), (22050, 16000), (16000, 24000),
              (24000, 44100), (16000, 48000), (22050, 48000)]


def _in_chunks(resampler: StreamResampler, samples: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out, pos = [], 0
    while pos < len(samples):
        size = int(rng.integers(1, 2000))
        out.append(resampler.process(samples[pos : pos + size]))
        pos += size
    out.append(resampler.flush())
    return np.concatenate(out)


@pytest.mark.parametrize(("in_rate", "out_rate"), RATE_PAIRS)
def test_chunks_of_any_size_equal_one_piece(in_rate: int, out_rate: int) -> None:
    signal = tone(997.0, 1.0, in_rate)
    whole = resample(signal, in_rate, out_rate)
    streamed = _in_chunks(StreamResampler(in_rate, out_rate), signal, seed=in_rate + out_rate)
    assert len(streamed) == len(whole) == pytest.approx(len(signal) * out_rate / in_rate, abs=1)
    assert np.max(np.abs(streamed - whole)) < 1e-5
    assert dominant_frequency(streamed, out_rate) == pytest.approx(997.0, abs=2.0)


@pytest.mark.parametrize(("in_rate", "out_rate"), RATE_PAIRS)
def test_no_clicks_at_chunk_boundaries(in_rate: int, out_rate: int) -> None:
    """Streamed output matches the ideal sine at the new rate everywhere but the two ends."""
    streamed = _in_chunks(StreamResampler(in_rate, out_rate), tone(440.0, 1.0, in_rate), seed=7)
    ideal = tone(440.0, 1.0, out_rate)[: len(streamed)]
    edge = out_rate // 50  # 20 ms: the filter rings at the start and end of any signal
    error = np.abs(streamed - ideal)[edge:-edge]
    assert error.max() < 1e-3


def test_int16_streams_too() -> None:
    signal = (tone(1000.0, 0.5, 48000) * 32767).astype(np.int16)
    whole = resample(signal, 48000, 16000)
    streamed = _in_chunks(StreamResampler(48000, 16000, np.int16), signal, seed=3)
    assert whole.dtype == streamed.dtype == np.int16
    # int16 output is dithered: the two may differ by a bit or two, never by more
    assert np.max(np.abs(streamed.astype(int) - whole.astype(int))) <= 4
    assert dominant_frequency(streamed, 16000) == pytest.approx(1000.0, abs=4.0)


def test_same_rate_passes_through() -> None:
    signal = tone(300.0, 0.1, 16000)
    resampler = StreamResampler(16000, 16000)
    assert np.array_equal(resampler.process(signal), signal)
    assert resampler.flush().size == 0


def test_wrong_sample_type_is_refused() -> None:
    with pytest.raises(TypeError, match="int16 or float32"):
        resample(np.zeros(10, dtype=np.float64), 16000, 8000)
    with pytest.raises(TypeError, match="expected float32"):
        StreamResampler(48000, 16000).process(np.zeros(10, dtype=np.int16))
