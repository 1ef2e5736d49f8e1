"""The OpenAI chat-completions stream protocol: SSE lines in, text deltas and stats out."""

from __future__ import annotations

import json
from typing import Any

from koe.config.errors import one_line
from koe.voice.llm.errors import MalformedReply, StreamBroken
from koe.voice.llm.sse import SseDecoder
from koe.voice.llm.types import ReplyStats

# Lines that are no part of an event stream, tolerated before any event: a server that
# answers with something else entirely is told apart at once, not at a timeout.
MAX_STRAY_LINES = 20
_SSE_FIELDS = ("data", "event", "id", "retry")


class ChunkParser:
    """Chat-completion chunks from SSE lines: text deltas out, stats and errors noted."""

    def __init__(self, stats: ReplyStats) -> None:
        self.stats = stats
        self.done = False
        self._sse = SseDecoder()
        self._events = 0
        self._stray = 0

    def feed(self, line: str) -> list[str]:
        self._check_stray(line)
        event = self._sse.feed(line)
        if event is None:
            return []
        self._events += 1
        return self._handle(event.data, event.event)

    def _check_stray(self, line: str) -> None:
        if self._events or not line or line.startswith(":"):
            return
        if line.partition(":")[0] not in _SSE_FIELDS:
            self._stray += 1
            if self._stray > MAX_STRAY_LINES:
                raise MalformedReply(f"not an event stream: {one_line(line, 80)}")

    def finish(self) -> None:
        """The stream ended without [DONE]: fine after a finish reason, broken otherwise."""
        event = self._sse.flush()
        if event:
            self._handle(event.data, event.event)
        if not self.done and self.stats.finish_reason is None:
            raise StreamBroken("the stream ended before the reply was complete")

    def _handle(self, data: str, event: str) -> list[str]:
        if data.strip() == "[DONE]":
            self.done = True
            return []
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            if event == "error":
                raise StreamBroken(f"the server reported: {one_line(data)}") from exc
            raise MalformedReply(f"not JSON: {one_line(data)}") from exc
        if not isinstance(chunk, dict):
            raise MalformedReply(f"not a JSON object: {one_line(data)}")
        if event == "error" or "error" in chunk:
            raise StreamBroken(f"the server reported: {error_text(chunk)}")
        self._note_stats(chunk)
        deltas = []
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                raise MalformedReply(f"a choice is not an object: {one_line(data)}")
            if choice.get("finish_reason"):
                self.stats.finish_reason = choice["finish_reason"]
            content = (choice.get("delta") or {}).get("content")
            if content:
                deltas.append(content)
        return deltas

    def _note_stats(self, chunk: dict[str, Any]) -> None:
        usage = chunk.get("usage") or {}
        timings = chunk.get("timings") or {}
        if usage:
            self.stats.prompt_tokens = usage.get("prompt_tokens")
            self.stats.completion_tokens = usage.get("completion_tokens")
            details = usage.get("prompt_tokens_details") or {}
            self.stats.cached_tokens = details.get("cached_tokens")
        if "cache_n" in timings and "prompt_n" in timings:  # llama.cpp says it exactly
            self.stats.cached_tokens = timings["cache_n"]
            self.stats.prompt_tokens = timings["cache_n"] + timings["prompt_n"]


def error_text(body: Any) -> str:
    """The message out of {"error": {"message": ...}}, {"error": "..."}, or plain text."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return one_line(str(error.get("message") or error))
        return one_line(str(error))
    return one_line(str(body))
