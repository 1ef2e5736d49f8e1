"""16 kHz mono int16 PCM: the format webrtcvad and the endpointer take, and a buffer of it
addressed by stream position (so events can cite exact sample numbers)."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000
SAMPLE_WIDTH = 2  # bytes per int16 sample

Pcm = np.ndarray | bytes | bytearray | memoryview


def as_pcm_bytes(pcm: Pcm) -> bytes:
    """Little-endian int16 bytes from an int16 array or raw bytes.

    Float arrays are refused rather than converted: float audio fed here is almost always a
    caller who forgot `to_int16`, and reinterpreting it would be noise, not a clear error.
    """
    if isinstance(pcm, bytes | bytearray | memoryview):
        return bytes(pcm)
    if not isinstance(pcm, np.ndarray):
        raise TypeError(f"PCM must be an int16 numpy array or bytes, not {type(pcm).__name__}")
    if pcm.dtype.kind != "i" or pcm.dtype.itemsize != SAMPLE_WIDTH:
        raise ValueError(f"PCM must be int16 (16 kHz mono), got dtype {pcm.dtype}")
    if pcm.ndim != 1:
        raise ValueError(f"PCM must be mono (one dimension), got shape {pcm.shape}")
    return np.ascontiguousarray(pcm, dtype="<i2").tobytes()


def to_seconds(samples: int) -> float:
    return samples / SAMPLE_RATE


def samples_of(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)


class PcmWindow:
    """Contiguous PCM from stream position `start` to `end`; the front can be dropped."""

    def __init__(self, start: int = 0) -> None:
        self._start = start
        self._data = bytearray()

    @property
    def start(self) -> int:
        return self._start

    @property
    def end(self) -> int:
        return self._start + len(self._data) // SAMPLE_WIDTH

    def append(self, pcm: bytes) -> None:
        self._data += pcm

    def slice(self, start: int, end: int) -> np.ndarray:
        """A read-only int16 copy of [start, end), clamped to what is held."""
        lo = max(start, self._start) - self._start
        hi = max(min(end, self.end) - self._start, lo)
        return np.frombuffer(bytes(self._data[lo * SAMPLE_WIDTH : hi * SAMPLE_WIDTH]),
                             dtype="<i2")

    def drop_before(self, position: int) -> None:
        cut = min(max(position - self._start, 0), len(self._data) // SAMPLE_WIDTH)
        del self._data[: cut * SAMPLE_WIDTH]
        self._start += cut

    def clear(self, start: int) -> None:
        self._data.clear()
        self._start = start
