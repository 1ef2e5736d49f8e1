"""One turn as the loop saw it: what was said and when each stage finished.

Times are seconds on the input stream's clock (0 = the microphone's first sample), so in file
mode they can be checked against the input and output recordings.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO


@dataclass
class TurnReport:
    transcript: str = ""
    reply: str = ""  # what the model wrote
    spoken: str = ""  # what reached the speaker
    interrupted: bool = False  # the user talked over the reply, which stopped there
    memories: list[str] = field(default_factory=list)  # quoted to the model
    speech_start: float | None = None
    speech_end: float | None = None  # where the voice stopped
    endpoint: float | None = None  # when the loop decided the turn was over
    transcript_ready: float | None = None
    first_token: float | None = None
    first_audio: float | None = None  # when the reply's first sample was played
    speculative: bool = False  # the reply was begun at a pause, before the endpoint
    barge_in: float | None = None  # when the user's speech over the reply began
    stopped: float | None = None  # when koe stopped speaking because of it
    prompt_tokens: int | None = None  # as the server counted them
    cached_tokens: int | None = None  # of which it had already read (its prompt cache)
    error: str = ""

    @property
    def latency(self) -> float | None:
        """Voice to voice: end of the user's speech to the first sample of the reply."""
        if self.first_audio is None or self.speech_end is None:
            return None
        return self.first_audio - self.speech_end

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency"] = self.latency
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in data.items()}


def write_report(turns: list[TurnReport], out: TextIO) -> None:
    json.dump({"turns": [t.to_json() for t in turns]}, out, indent=2, ensure_ascii=False)
    out.write("\n")
