"""Markdown block structure, streamed: what a listener hears of headers, lists, quotes, tables
and code fences, decided line by line as deltas arrive.

Output keeps inline markdown (the splitter and `speakable` deal with that) and marks the end
of every block (header, list item, paragraph, table row, dropped code block) with a single
"\n", so the splitter can treat it as a sentence end. A plain line that runs on into the next
plain line becomes a space: a paragraph wrapped over several lines is still one sentence.
Fed the same text in any pieces, the concatenated output is the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

BREAK = "\n"

_FENCE = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})")
_RULE = re.compile(r"[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")
_TABLE_SEPARATOR = re.compile(r"[ \t]*\|?(?:[ \t]*:?-{2,}:?[ \t]*\|?)+[ \t]*")
# A block marker and the body that follows it.
_HEADER = re.compile(r"[ \t]{0,3}#{1,6}[ \t]+")
_BULLET = re.compile(r"[ \t]*[-*+•‣◦][ \t]+")
_NUMBERED = re.compile(r"[ \t]*\d{1,3}[.)][ \t]+")
_QUOTE = re.compile(r"[ \t]*(?:>[ \t]?)+")
# Line starts that could still turn into a marker once more characters arrive.
_UNDECIDED = re.compile(r"[ \t]*(?:|[-*_ \t]+|[`~]{1,2}|#{1,6}|\d{1,3}[.)]?|[+•‣◦]|[> \t]+)")
_HEADER_TAIL = re.compile(r"[ \t]+#+[ \t]*$")
# What may yet be cut when a line ends: trailing spaces, and a header's closing "#"s.
_HELD_TAIL = re.compile(r"[ \t]*$")
_HELD_HEADER_TAIL = re.compile(r"[ \t#]*$")


class Kind(Enum):
    PLAIN = "plain"  # runs on into a following plain line
    QUOTE = "quote"  # like plain, with its ">" removed
    ITEM = "item"  # header, list item, table row: always ends its block


@dataclass
class _Line:
    """The line being received: its raw text so far and how much of its body was sent."""

    raw: str = ""
    kind: Kind | None = None
    body_start: int = 0
    sent: int = 0  # characters of the body already emitted


class BlockFilter:
    """Feed raw markdown deltas; get back text with block markup turned into speech breaks."""

    def __init__(self) -> None:
        self._line = _Line()
        self._fence: str | None = None  # the opening fence while inside a code block
        self._pending = ""  # "soft" after a plain line: a space or a break, by what follows
        self._last_break = True  # nothing emitted yet counts as a break (no leading "\n")

    def feed(self, delta: str) -> str:
        out: list[str] = []
        delta = delta.replace("\r", "")  # "\r\n" line ends, split across deltas or not
        while delta:
            head, newline, delta = delta.partition("\n")
            self._line.raw += head
            if newline:
                out.append(self._end_line())
            else:
                out.append(self._stream_line())
        return "".join(out)

    def flush(self) -> str:
        text = self._end_line() if self._line.raw else ""
        self._pending = ""
        return text

    # -- one line at a time ------------------------------------------------------------------

    def _end_line(self) -> str:
        """The line is complete: decide everything about it."""
        line, raw = self._line, self._line.raw
        self._line = _Line()
        if self._fence is not None:
            if raw.strip().startswith(self._fence) and not raw.strip(self._fence[0] + " \t"):
                self._fence = None
            return ""
        fence = _FENCE.match(raw)
        if fence:
            self._fence = fence.group(1)
            return self._hard_break()
        if not raw.strip() or _RULE.fullmatch(raw):
            return self._hard_break()
        if raw.lstrip().startswith("|"):
            if _TABLE_SEPARATOR.fullmatch(raw):
                return ""
            return self._emit_body(Kind.ITEM, _table_row(raw), 0) + self._end_body(Kind.ITEM)
        if line.kind is None:
            line.kind, line.body_start = _classify(raw)
        body = raw[line.body_start :]
        if _HEADER.match(raw) and line.kind is Kind.ITEM:
            body = _HEADER_TAIL.sub("", body)
        return self._emit_body(line.kind, body.rstrip(), line.sent) + self._end_body(line.kind)

    def _stream_line(self) -> str:
        """Send what is already certain of an incomplete line."""
        line = self._line
        if self._fence is not None or line.raw.lstrip().startswith("|"):
            return ""
        if line.kind is None:
            if _UNDECIDED.fullmatch(line.raw) or _FENCE.match(line.raw):
                return ""
            line.kind, line.body_start = _classify(line.raw)
        body = line.raw[line.body_start :]
        held = _HELD_HEADER_TAIL if _HEADER.match(line.raw) else _HELD_TAIL
        body = body[: held.search(body).start()]
        text = self._emit_body(line.kind, body, line.sent)
        line.sent = max(line.sent, len(body))
        return text

    def _emit_body(self, kind: Kind, body: str, sent: int) -> str:
        fresh = body[sent:]
        if not fresh:
            return ""
        if sent == 0:
            fresh = fresh.lstrip()
            if not fresh:
                return ""
            fresh = self._join(kind) + fresh
        self._last_break = False
        return fresh

    def _join(self, kind: Kind) -> str:
        """What separates this line's text from the previous line's."""
        pending, self._pending = self._pending, ""
        if not pending:
            return ""
        return " " if kind is not Kind.ITEM else self._hard_break()

    def _end_body(self, kind: Kind) -> str:
        """An item ends its block now; a plain line waits to see what follows it."""
        if kind is Kind.ITEM:
            return self._hard_break()
        if not self._last_break:
            self._pending = "soft"
        return ""

    def _hard_break(self) -> str:
        self._pending = ""
        if self._last_break:
            return ""
        self._last_break = True
        return BREAK


def _classify(raw: str) -> tuple[Kind, int]:
    for pattern, kind in ((_HEADER, Kind.ITEM), (_BULLET, Kind.ITEM), (_NUMBERED, Kind.ITEM),
                          (_QUOTE, Kind.QUOTE)):
        match = pattern.match(raw)
        if match:
            return kind, match.end()
    return Kind.PLAIN, 0


def _table_row(raw: str) -> str:
    cells = [cell.strip() for cell in raw.strip().strip("|").split("|")]
    return ", ".join(cell for cell in cells if cell)
