"""The clocks one reply runs against: first token, progress, and the whole reply.

Only text is progress. A server's keep-alive comments, blank lines and empty chunks prove the
connection is up, not that an answer is coming, so they never move a deadline.
"""

from __future__ import annotations

from dataclasses import dataclass

from koe.voice.llm.errors import LlmError, LlmTimeout, ReplyCut
from koe.voice.llm.types import Endpoint


@dataclass
class ReplyDeadlines:
    endpoint: Endpoint
    started: float  # event-loop time the request was sent
    last_text: float | None = None

    def text_arrived(self, now: float) -> None:
        self.last_text = now

    def next(self) -> float:
        """The event-loop time by which the next piece of text must have come."""
        return min(self._total(), self._progress())

    def expired(self) -> LlmError:
        """What to say when `next()` passed."""
        endpoint = self.endpoint
        if self._total() <= self._progress():
            return ReplyCut(f"still going after {endpoint.max_reply_seconds:g} s",
                            "llm.max_reply_seconds")
        if self.last_text is None:
            return LlmTimeout("first token", "llm.first_token_timeout",
                              endpoint.first_token_timeout)
        return LlmTimeout("new text", "llm.read_timeout", endpoint.read_timeout)

    def _total(self) -> float:
        return self.started + self.endpoint.max_reply_seconds

    def _progress(self) -> float:
        if self.last_text is None:
            return self.started + self.endpoint.first_token_timeout
        return self.last_text + self.endpoint.read_timeout
