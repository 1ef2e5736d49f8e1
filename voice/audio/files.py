"""Audio files in, 16 kHz mono float32 out: the one format every speech model here takes."""

from __future__ import annotations

import gc
import struct
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from koe.config.errors import AudioError

SAMPLE_RATE = 16_000
# A file whose decoded length falls short of what its header declares by more than this
# fraction (and at least half a second) is reported as truncated.
TRUNCATION_TOLERANCE = 0.02


@dataclass(frozen=True)
class DecodedAudio:
    samples: np.ndarray  # float32, mono, SAMPLE_RATE
    source_rate: int
    source_channels: int
    codec: str
    declared_seconds: float | None  # what the container header claims, when it says
    corrupt_frames: int  # frames the decoder had to skip

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def truncated(self) -> bool:
        if self.declared_seconds is None:
            return False
        missing = self.declared_seconds - self.seconds
        return missing > max(0.5, TRUNCATION_TOLERANCE * self.declared_seconds)


def decode_file(path: str | Path) -> DecodedAudio:
    """Decode any container/codec PyAV reads to 16 kHz mono; AudioError says why it can't."""
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: file is empty")
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: contains no audio stream")
            stream = container.streams.audio[0]
            declared = _riff_declared_seconds(path) or _declared_seconds(container, stream)
            samples, corrupt = _decode_stream(container, stream)
            info = (stream.rate or 0, stream.channels or 0, stream.codec_context.name)
    except AudioError:
        raise
    except av.error.FFmpegError as exc:
        raise AudioError(f"{path}: not a readable audio file ({_reason(exc)})") from exc
    finally:
        gc.collect()  # PyAV's resampler frees its buffers only on collection
    if samples.size == 0:
        raise AudioError(f"{path}: contains no audio samples (truncated or empty recording)")
    return DecodedAudio(samples, *info, declared_seconds=declared, corrupt_frames=corrupt)


def _decode_stream(container: av.container.InputContainer,
                   stream: av.audio.stream.AudioStream) -> tuple[np.ndarray, int]:
    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    corrupt = 0
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            break
        except av.error.InvalidDataError:
            corrupt += 1
            continue
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            corrupt += 1
            continue
        for frame in frames:
            frame.pts = None  # resample by sample count; broken timestamps must not matter
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    if not chunks:
        return np.zeros(0, dtype=np.float32), corrupt
    return np.concatenate(chunks).astype(np.float32) / 32768.0, corrupt


def _declared_seconds(container: av.container.InputContainer,
                      stream: av.audio.stream.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _riff_declared_seconds(path: Path) -> float | None:
    """Length a WAV header declares. FFmpeg trusts the file size instead, hiding truncation."""
    with path.open("rb") as f:
        header = f.read(4096)
    if header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return None
    byte_rate = None
    pos = 12
    while pos + 8 <= len(header):
        chunk_id, size = header[pos : pos + 4], struct.unpack("<I", header[pos + 4 : pos + 8])[0]
        if chunk_id == b"fmt " and pos + 16 <= len(header):
            byte_rate = struct.unpack("<I", header[pos + 16 : pos + 20])[0]
        elif chunk_id == b"data":
            # 0 and 0xFFFFFFFF mean "unknown length" (streamed WAV): nothing declared.
            if byte_rate and size not in (0, 0xFFFFFFFF):
                return size / byte_rate
            return None
        pos += 8 + size + (size & 1)
    return None


def _reason(exc: av.error.FFmpegError) -> str:
    return (getattr(exc, "strerror", None) or str(exc)).strip().rstrip(".").lower()


def to_int16(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> int16 PCM, clipped."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def from_int16(pcm: np.ndarray | bytes) -> np.ndarray:
    """int16 PCM (array or raw bytes) -> float32 in [-1, 1]."""
    if isinstance(pcm, bytes | bytearray | memoryview):
        pcm = np.frombuffer(pcm, dtype=np.int16)
    return pcm.astype(np.float32) / 32768.0
