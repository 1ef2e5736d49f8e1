"""The shared speech set (../shared/speech/manifest.tsv) for benchmarks and evaluation."""

from __future__ import annotations

import csv
import os
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice.audio import SAMPLE_RATE, decode_file, to_int16

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared"


@dataclass(frozen=True)
class Clip:
    path: Path
    transcript: str


def shared_speech_dir() -> Path:
    return Path(os.environ.get("KOE_SHARED", DEFAULT_SHARED)) / "speech"


def load_clips() -> list[Clip]:
    manifest = shared_speech_dir() / "manifest.tsv"
    if not manifest.is_file():
        sys.exit(f"shared speech set not found at {manifest} (set KOE_SHARED to the shared folder)")
    with manifest.open(encoding="utf-8") as f:
        return [Clip(manifest.parent / r["file"], r["transcript"])
                for r in csv.DictReader(f, delimiter="\t")]


def long_recording(clips: list[Clip], min_seconds: float, gap_seconds: float = 0.6
                   ) -> tuple[np.ndarray, str]:
    """The clips joined with short pauses, repeated to at least `min_seconds`; + its reference."""
    gap = np.zeros(int(gap_seconds * SAMPLE_RATE), dtype=np.float32)
    decoded = [(decode_file(c.path).samples, c.transcript) for c in clips]
    parts: list[np.ndarray] = []
    words: list[str] = []
    total = 0
    while total < min_seconds * SAMPLE_RATE:
        for samples, transcript in decoded:
            parts += [samples, gap]
            words.append(transcript)
            total += len(samples) + len(gap)
    return np.concatenate(parts), " ".join(words)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """16 kHz mono 16-bit WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(to_int16(samples).tobytes())
    return path
