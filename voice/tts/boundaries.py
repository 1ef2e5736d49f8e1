"""Where a stream of text may be cut for synthesis: sentence ends, line breaks, clause marks.

`find_cuts` reads text that may still grow. When telling whether a place is a sentence end
needs characters that have not arrived yet ("Dr." + " Smith"? "3." + "5"?) it yields None
and stops, so the answer never depends on where the stream happened to be cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from koe.voice.tts.blocks import BREAK

CutKind = Literal["break", "sentence", "clause"]

TERMINATORS = ".!?…。！？"
CLOSERS = "\"'”’)]*_"
CLAUSE_MARKS = ",;:"
DASHES = "—–"
# An inline code span longer than this (or one crossing a line) is a stray backtick instead.
CODE_SPAN_LOOKAHEAD = 80

# Words that end with a full stop without ending the sentence (compared lowercased, no dot).
# Ones that are also common words ("sat", "sun", "col") are left out: the cost of a wrong
# "no cut" is only two sentences said as one phrase.
ABBREVIATIONS = frozenset((
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "rev", "lt", "sgt", "capt", "gov",
    "vs", "etc", "approx", "cf", "fig", "figs", "inc", "ltd", "co", "corp", "dept", "vol", "pp",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "mon", "tue", "tues", "wed", "thu", "thurs", "fri",
))
_DOTTED = re.compile(r"(?:[a-z]{1,2}\.)+[a-z]{1,2}", re.I)  # e.g, i.e, U.S, a.m, Ph.D
_INITIAL = re.compile(r"[A-Za-z]")  # "J. R. R. Tolkien"
_NUMBER_ABBREVIATIONS = frozenset(("no", "nos", "p"))  # "No. 5", "p. 12"


@dataclass(frozen=True)
class Cut:
    end: int  # the piece is text[:end]
    kind: CutKind


def find_cuts(text: str, final: bool) -> Iterator[Cut | None]:
    """Every place `text` may be cut, in order; None (then stop) where more text is needed.
    With `final`, the text is complete: its end is a known end."""
    n = len(text)
    i = 0
    depth = 0  # open brackets: no clause cut inside "(a, b, c)"
    while i < n:
        char = text[i]
        if char == BREAK:
            depth = 0
            yield Cut(i + 1, "break")
        elif char == "`":
            close = _code_span_end(text, i, final)
            if close is None:
                yield None
                return
            i = close
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        elif char in TERMINATORS:
            run_end = _run_end(text, i, TERMINATORS)
            decision = _sentence_end(text, i, run_end, final)
            if decision is None:
                yield None
                return
            if decision:
                yield Cut(decision, "sentence")
            i = run_end - 1
        elif depth == 0 and (char in CLAUSE_MARKS or char in DASHES or char == "-"):
            decision = _clause_end(text, i, final)
            if decision is None:
                yield None
                return
            if decision:
                yield Cut(decision, "clause")
        i += 1


def _sentence_end(text: str, start: int, run_end: int, final: bool) -> int | None:
    """The cut after the terminators text[start:run_end], 0 for no cut, None for unknown."""
    run = text[start:run_end]
    if not set(run) & set("!?！？") and (len(run) > 1 or "…" in run):
        return 0  # an ellipsis is a pause inside a sentence, not its end
    end = _run_end(text, run_end, CLOSERS)
    if end == len(text):
        return end if final else None
    if not text[end].isspace():
        return 0  # "3.5", "example.com", "e.g.,"
    if run != ".":
        return end
    following = _next_visible(text, end)
    if following is None:
        return end if final else None
    if following == BREAK:
        return end
    word = _word_before(text, start)
    if _is_abbreviation(word, following) or _is_item_number(text, start, word):
        return 0
    if following.islower():
        return 0  # an abbreviation we do not know: "approx. three"
    return end


def _clause_end(text: str, at: int, final: bool) -> int | None:
    """A cut after a comma, semicolon, colon or dash followed by a space; 0 for none."""
    char = text[at]
    if at + 1 == len(text):
        return at + 1 if final else None
    after = text[at + 1]
    if char == "-":  # only a spaced hyphen is a dash: "well-known" is one word
        spaced = at > 0 and text[at - 1] == " " and after.isspace()
        return at + 1 if spaced else 0
    if char in DASHES:
        between_digits = at > 0 and text[at - 1].isdigit() and after.isdigit()
        return 0 if between_digits else at + 1
    return at + 1 if after.isspace() else 0  # not "10:30" or "1,000"


def _code_span_end(text: str, start: int, final: bool) -> int | None:
    """Index of the closing backtick, `start` itself for a stray one, None for unknown."""
    run = _run_end(text, start, "`") - start
    window = text[start + run : start + run + CODE_SPAN_LOOKAHEAD]
    close = window.find("`" * run)
    stop = window.find(BREAK)
    if close >= 0 and (stop < 0 or close < stop):
        return start + run + close + run - 1
    if stop >= 0 or final or len(window) == CODE_SPAN_LOOKAHEAD:
        return start + run - 1
    return None


def _is_abbreviation(word: str, following: str) -> bool:
    bare = word.lower()
    if bare in ABBREVIATIONS or _DOTTED.fullmatch(word) or _INITIAL.fullmatch(word):
        return True
    return bare in _NUMBER_ABBREVIATIONS and following.isdigit()


def _is_item_number(text: str, end: int, word: str) -> bool:
    """"1." opening a line or a piece ("**1. Mix** the flour") numbers an item."""
    if not (word.isdigit() and len(word) <= 2):
        return False
    line_start = text.rfind(BREAK, 0, end) + 1
    return not text[line_start : end - len(word)].strip(" \t*_")


def _word_before(text: str, end: int) -> str:
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end].lstrip("\"'“‘([*_")


def _next_visible(text: str, start: int) -> str | None:
    """The next character that is not a space or tab (a BREAK counts), None if none yet."""
    for char in text[start:]:
        if char not in " \t":
            return char
    return None


def _run_end(text: str, start: int, chars: str) -> int:
    end = start
    while end < len(text) and text[end] in chars:
        end += 1
    return end
