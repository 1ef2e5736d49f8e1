"""The shared speech set (../shared/speech/manifest.tsv): real speech with reference text."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

SHARED = Path(os.environ.get("KOE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SPEECH_DIR = SHARED / "speech"


@dataclass(frozen=True)
class SpeechClip:
    path: Path
    transcript: str


def speech_clips() -> list[SpeechClip]:
    manifest = SPEECH_DIR / "manifest.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8") as f:
        rows = csv.DictReader(f, delimiter="\t")
        return [SpeechClip(SPEECH_DIR / r["file"], r["transcript"]) for r in rows]
