"""Text as a listener should hear it: no markdown, emoji, code or stage directions; words,
numbers, money and the punctuation that shapes the voice's phrasing kept."""

from __future__ import annotations

import re

from koe.voice.tts.blocks import BREAK, BlockFilter
from koe.voice.tts.markup import strip_markup
from koe.voice.tts.spoken_forms import spoken_forms

# Punctuation after which the voice already pauses; a line (a header, a list item) that ends
# without one gets a full stop, so "Eggs\nMilk" is not read as "eggs milk".
PAUSING_END = ".!?:;,"

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,!?;:%)\]”’])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[“‘])\s+")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|\"\s*\"|“\s*”")
# What removals leave behind: ", ." -> "."; ". ," -> "."; ", ;" -> ","
_PAUSE_BEFORE_STOP = re.compile(r"[,;:]+\s*(?=[.!?])")
_PAUSE_AFTER_STOP = re.compile(r"(?<=[.!?])\s*[,;:]+")
_PAUSE_RUN = re.compile(r"([,;:])(?:\s*[,;:])+")
_REPEATS = re.compile(r"([.!?,])\1+")
_LEADING = re.compile(r"^[\s,.;:!?)\]”’]+")
_WORD = re.compile(r"\w+")


def speakable(text: str) -> str:
    """The whole of `text` (markdown allowed) made ready to synthesise."""
    blocks = BlockFilter()
    return speakable_piece(blocks.feed(text) + blocks.flush())


def speakable_piece(piece: str) -> str:
    """One piece of block-filtered text (lines separated by BREAK) made ready to synthesise."""
    lines = (tidy(spoken_forms(strip_markup(line))) for line in piece.split(BREAK))
    said = [line if ends_with_pause(line) else line + "." for line in lines if line]
    return " ".join(said)


def ends_with_pause(text: str) -> bool:
    closed = text.rstrip("\"'”’)]")
    return bool(closed) and closed[-1] in PAUSING_END


def tidy(text: str) -> str:
    """Whitespace and punctuation left over after removals, put straight."""
    text = _EMPTY_BRACKETS.sub(" ", text)
    text = _SPACES.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _SPACE_AFTER_OPEN.sub(r"\1", text)
    text = _PAUSE_BEFORE_STOP.sub("", text)
    text = _PAUSE_AFTER_STOP.sub("", text)
    text = _PAUSE_RUN.sub(r"\1", text)
    text = _REPEATS.sub(r"\1", text)
    text = _LEADING.sub("", text)
    text = text.strip()
    return "" if not _WORD.search(text) else text


def word_count(text: str) -> int:
    return len(_WORD.findall(text))
