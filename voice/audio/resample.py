"""Sample-rate conversion, whole or in a stream of chunks, with no clicks at chunk boundaries.

libsoxr's streaming resampler carries its filter state from one chunk to the next, so a signal
fed in chunks of any size comes out the same as when converted in one piece. It holds back a
few milliseconds (its filter delay) until `flush()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import soxr

QUALITY = "HQ"
_DTYPES = (np.dtype(np.int16), np.dtype(np.float32))


def resample(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Convert a whole mono int16 or float32 signal; the result keeps the input's dtype."""
    _check_dtype(samples.dtype)
    if in_rate == out_rate or samples.size == 0:
        return samples.copy()
    return soxr.resample(samples, in_rate, out_rate, quality=QUALITY)


@dataclass
class StreamResampler:
    """Convert a mono int16 or float32 stream chunk by chunk: `process()` each, then `flush()`."""

    in_rate: int
    out_rate: int
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float32))
    _stream: soxr.ResampleStream | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.dtype = np.dtype(self.dtype)
        _check_dtype(self.dtype)
        if self.in_rate <= 0 or self.out_rate <= 0:
            raise ValueError(f"sample rates must be positive: {self.in_rate} -> {self.out_rate}")
        self.reset()

    @property
    def passthrough(self) -> bool:
        return self.in_rate == self.out_rate

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """The output this chunk completes; a few ms may wait in the filter for the next one."""
        if chunk.dtype != self.dtype:
            raise TypeError(f"expected {self.dtype} samples, got {chunk.dtype}")
        if self._stream is None:
            return chunk.copy()
        return self._stream.resample_chunk(np.ascontiguousarray(chunk))

    def flush(self) -> np.ndarray:
        """The held-back end of the stream; the resampler is then ready for a new stream."""
        if self._stream is None:
            return np.zeros(0, dtype=self.dtype)
        tail = self._stream.resample_chunk(np.zeros(0, dtype=self.dtype), last=True)
        self.reset()
        return tail

    def reset(self) -> None:
        """Forget the stream so far (held-back samples are dropped)."""
        self._stream = None if self.passthrough else soxr.ResampleStream(
            self.in_rate, self.out_rate, 1, dtype=self.dtype.name, quality=QUALITY)


def _check_dtype(dtype: np.dtype) -> None:
    if np.dtype(dtype) not in _DTYPES:
        raise TypeError(f"resampling takes int16 or float32 samples, got {dtype}")
