"""Transcript data: what every transcription produces and every writer consumes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class TranscriptSegment:
    start: float  # seconds from the start of the audio
    end: float
    text: str
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    words: tuple[Word, ...] = ()

    def shifted(self, seconds: float) -> TranscriptSegment:
        """The same segment `seconds` later (a clip's timings placed in the whole recording)."""
        words = tuple(replace(w, start=w.start + seconds, end=w.end + seconds)
                      for w in self.words)
        return replace(self, start=self.start + seconds, end=self.end + seconds, words=words)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["words"] = [asdict(w) for w in self.words]
        return data


@dataclass
class Transcript:
    source: str
    duration: float
    language: str
    model: str
    segments: list[TranscriptSegment] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())
