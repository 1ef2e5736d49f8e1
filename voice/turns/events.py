"""What the endpointer reports, as small frozen dataclasses tagged by `type`.

Every event has `sample`: the stream position (in 16 kHz samples from the first sample fed, or
from `reset(at_sample=...)`) at which it was decided, i.e. the end of the frame that decided
it; `seconds` is the same in seconds. Other positions say where in the stream something
happened, so latency can be measured from the real end of speech.

`pcm` (int16, read-only) is filled by `Segmenter`; the bare `Endpointer` sees no audio and
leaves it empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from koe.voice.turns.pcm import to_seconds

EndReason = Literal["silence", "max_length", "stream_end"]


def _no_audio() -> np.ndarray:
    return np.zeros(0, dtype=np.int16)


@dataclass(frozen=True)
class _Event:
    sample: int

    @property
    def seconds(self) -> float:
        return to_seconds(self.sample)


@dataclass(frozen=True)
class SpeechStarted(_Event):
    """Enough voiced sound to be a turn. The utterance reaches back over the pre-roll."""

    start_sample: int  # utterance start: first voiced sample minus the pre-roll
    speech_sample: int  # first voiced sample of the onset
    type: Literal["speech_started"] = field(default="speech_started", init=False)


@dataclass(frozen=True)
class SpeechPaused(_Event):
    """Silence has lasted `speculate_seconds`: work may start on the audio so far."""

    start_sample: int
    speech_end_sample: int  # where the voice stopped
    pcm: np.ndarray = field(default_factory=_no_audio, compare=False, repr=False)
    type: Literal["speech_paused"] = field(default="speech_paused", init=False)


@dataclass(frozen=True)
class SpeechResumed(_Event):
    """Speech came back after a pause: whatever was started at the pause is stale."""

    speech_sample: int  # where the voice came back
    type: Literal["speech_resumed"] = field(default="speech_resumed", init=False)


@dataclass(frozen=True)
class SpeechEnded(_Event):
    """The turn is over: by silence (the endpoint), at `max_seconds`, or at `finish()`.

    The utterance is [start_sample, end_sample); end_sample == sample. For "silence" it ends
    with the endpoint silence; `speech_end_sample` is where the voice actually stopped.
    """

    start_sample: int
    end_sample: int
    speech_end_sample: int
    reason: EndReason
    pcm: np.ndarray = field(default_factory=_no_audio, compare=False, repr=False)
    type: Literal["speech_ended"] = field(default="speech_ended", init=False)

    @property
    def duration_seconds(self) -> float:
        return to_seconds(self.end_sample - self.start_sample)


TurnEvent = SpeechStarted | SpeechPaused | SpeechResumed | SpeechEnded
