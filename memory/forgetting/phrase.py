"""Exact phrase matching, for forgetting: a phrase matches a text when its words occur
there whole and in order. "November 3" is not in "... on November 30", "Note 1" is not in
"Note 10: ...". Case and punctuation are ignored ("note 1" matches "Note 1: the meeting").
In scripts written without spaces (Chinese, Japanese) each character is a word, so there a
phrase matches wherever its characters stand in a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_UNSPACED}]|[^\W_{_UNSPACED}]+")


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


@dataclass(frozen=True)
class Phrase:
    text: str

    def __post_init__(self) -> None:
        if not words(self.text):
            raise ValueError(f"{self.text!r} holds no words to match")

    @cached_property
    def key(self) -> str:
        # Words hold no spaces, so a space-joined, space-fenced sequence matches whole words.
        return f" {' '.join(words(self.text))} "

    def matches(self, text: str) -> bool:
        return self.key in f" {' '.join(words(text))} "
