"""A piece of the reply made audible, and what a listener has heard of it after a while.

When the user barges in, the turn must record only what was actually played: the speaker
reports how long it played, and these pure helpers turn that into words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

# Audio quieter than this (int16) at a chunk's edges is the voice's lead-in/out silence.
SILENCE_LEVEL = 300
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, eq=False)  # identity: arrays don't compare as one bool or hash
class SpokenChunk:
    """One chunk of a reply: its text and its audio (int16 mono at `sample_rate`)."""

    text: str
    pcm: np.ndarray
    sample_rate: int
    voiced: tuple[int, int] = field(init=False, repr=False, compare=False)
    """(first, end) sample of the voice itself, without lead-in and trailing silence; all
    of it for a chunk that is silent throughout."""

    def __post_init__(self) -> None:
        loud = np.flatnonzero(np.abs(self.pcm.astype(np.int32)) > SILENCE_LEVEL)
        voiced = (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, len(self.pcm))
        object.__setattr__(self, "voiced", voiced)

    @property
    def samples(self) -> int:
        return len(self.pcm)

    @property
    def seconds(self) -> float:
        return self.samples / self.sample_rate

    def heard(self, seconds_played: float) -> str:
        """The words a listener heard in full after `seconds_played` of this chunk.

        Speech is taken to run at an even pace over the voiced part of the audio, so a word
        counts once playback passed the point where its last letter falls."""
        played = seconds_played * self.sample_rate
        start, end = self.voiced
        if played >= end:
            return self.text
        if played <= start:
            return ""
        reached = (played - start) / (end - start) * len(self.text)
        last = 0
        for word in _WORD.finditer(self.text):
            if word.end() > reached:
                break
            last = word.end()
        return self.text[:last]


def heard_text(chunks: Iterable[SpokenChunk], seconds_played: float) -> str:
    """What a listener heard of chunks played back to back for `seconds_played`."""
    said: list[str] = []
    left = seconds_played
    for chunk in chunks:
        if left <= 0:
            break
        said.append(chunk.heard(left))
        left -= chunk.seconds
    return " ".join(part for part in said if part)
