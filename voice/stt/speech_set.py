"""The shared speech set (`$KOE_SHARED/speech/manifest.tsv`): real speech with reference text.

Tests and benchmarks measure transcription against it; it is not part of an installation, so
`speech_clips()` is empty where the folder is absent and callers skip with `SPEECH_MISSING`.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

# A checkout's sibling folder `shared/`, unless $KOE_SHARED names another.
_CHECKOUT_SHARED = Path(__file__).resolve().parents[3] / "shared"


@dataclass(frozen=True)
class SpeechClip:
    path: Path
    transcript: str


def speech_dir() -> Path:
    return Path(os.environ.get("KOE_SHARED", _CHECKOUT_SHARED)) / "speech"


def speech_missing() -> str:
    """Why the set is unavailable, for a skip or an exit message."""
    return f"shared speech set not found at {speech_dir()} (set KOE_SHARED to the shared folder)"


def speech_clips() -> list[SpeechClip]:
    """Every clip in the manifest, or [] when the set is not on this computer."""
    manifest = speech_dir() / "manifest.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8") as f:
        return [SpeechClip(manifest.parent / r["file"], r["transcript"])
                for r in csv.DictReader(f, delimiter="\t")]
