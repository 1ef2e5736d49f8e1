"""What the loop tells its observers (status line, verbose log): small typed events.

`at` is seconds on the input stream's clock, like the times in a TurnReport.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from koe.voice.assistant.report import TurnReport

State = Literal["listening", "hearing", "thinking", "speaking"]


@dataclass(frozen=True)
class StateChanged:
    at: float
    state: State
    type: Literal["state"] = field(default="state", init=False)


@dataclass(frozen=True)
class Heard:
    """A transcript: `final` for the question, else the words so far."""

    at: float
    text: str
    final: bool
    type: Literal["heard"] = field(default="heard", init=False)


@dataclass(frozen=True)
class Said:
    """A piece of the reply, as it starts to play."""

    at: float
    text: str
    type: Literal["said"] = field(default="said", init=False)


@dataclass(frozen=True)
class Trouble:
    """Something went wrong; the loop goes on listening (or, if `fatal`, ends)."""

    at: float
    message: str
    hint: str = ""
    fatal: bool = False
    type: Literal["trouble"] = field(default="trouble", init=False)


@dataclass(frozen=True)
class TurnDone:
    at: float
    report: TurnReport
    type: Literal["turn"] = field(default="turn", init=False)


LoopEvent = StateChanged | Heard | Said | Trouble | TurnDone
