"""Write real audio files in many containers and codecs, for decoding tests."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# container suffix -> (codec, sample format PyAV's encoder wants)
CODECS = {
    "wav": ("pcm_s16le", "s16"),
    "flac": ("flac", "s16"),
    "mp3": ("libmp3lame", "fltp"),
    "ogg": ("libopus", "flt"),
    "m4a": ("aac", "fltp"),
    "webm": ("libopus", "flt"),
}


def write_audio(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> Path:
    """Encode float32 mono `samples` (at `rate`) into the container named by path's suffix."""
    codec, fmt = CODECS[path.suffix.lstrip(".")]
    if codec == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
        raise ValueError("opus needs 8/12/16/24/48 kHz")
    layout = "stereo" if channels == 2 else "mono"
    data = np.repeat(samples[None, :], channels, axis=0).astype(np.float32)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        stream.time_base = Fraction(1, rate)
        frame_size = stream.codec_context.frame_size or 1024
        for start in range(0, data.shape[1], frame_size):
            chunk = data[:, start : start + frame_size]
            if fmt == "s16":
                interleaved = (np.clip(chunk, -1, 1) * 32767).astype(np.int16).T.reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
            elif fmt == "flt":
                frame = av.AudioFrame.from_ndarray(chunk.T.reshape(1, -1).copy(), format="flt",
                                                   layout=layout)
            else:
                frame = av.AudioFrame.from_ndarray(chunk.copy(), format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def resample(samples: np.ndarray, rate_from: int, rate_to: int) -> np.ndarray:
    """Linear resampling, good enough to make test inputs at odd sample rates."""
    n = round(len(samples) * rate_to / rate_from)
    return np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)),
                     samples).astype(np.float32)


def tone(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
