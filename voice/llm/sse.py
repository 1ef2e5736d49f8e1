"""Server-sent events: turn the lines of an event stream into events (the WHATWG rules)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from koe.voice.llm.errors import MalformedReply

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class SseEvent:
    data: str
    event: str = "message"
    id: str | None = None


class SseDecoder:
    """Feed it lines (without their line break); it returns each event as it completes.

    Comment lines (":" keep-alives) are skipped, multi-line data is joined with newlines, and
    an event is complete at a blank line, or at the end of the stream (see `flush`).
    """

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None

    def feed(self, line: str) -> SseEvent | None:
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self._id = value
        return None  # "retry" and unknown fields are ignored, as the standard says

    def flush(self) -> SseEvent | None:
        """The pending event, if any (call at a blank line or when the stream ends)."""
        if not self._data:
            self._event = ""
            return None
        event = SseEvent("\n".join(self._data), self._event or "message", self._id)
        self._data, self._event = [], ""
        return event


async def bounded_lines(chunks: AsyncIterator[str], max_chars: int) -> AsyncIterator[str]:
    """The lines of a text stream (CRLF, LF or CR ends), none longer than `max_chars`: a
    server that never sends a line break must not fill memory while it is timed out."""
    pending = ""
    async for chunk in chunks:
        text = pending + chunk
        # A CR at the end may be the first half of a CRLF split across network chunks.
        held = "\r" if text.endswith("\r") else ""
        *lines, pending = _LINE_END.split(text[: len(text) - len(held)])
        pending += held
        for line in lines:
            yield line
        if len(pending) > max_chars:
            raise MalformedReply(f"a line longer than {max_chars:,} characters")
    if pending:
        yield pending.removesuffix("\r")
