"""Word error rate with a simple English normaliser, for tests and benchmarks."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Spoken forms Whisper and reference transcripts write differently.
_ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint"}
_NUMBERS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
]


def normalise(text: str) -> list[str]:
    """Lowercase words without punctuation; abbreviations and small numbers spelled out."""
    text = text.lower().replace("-", " ").replace("’", "'")
    words = re.sub(r"[^\w\s']", " ", text).split()
    out = []
    for word in words:
        word = word.strip("'")
        if word.isdigit() and int(word) < len(_NUMBERS):
            word = _NUMBERS[int(word)]
        out.append(_ABBREVIATIONS.get(word, word))
    return [w for w in out if w]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


def word_error_rate(pairs: Iterable[tuple[str, str]]) -> float:
    """Corpus WER over (reference, hypothesis) pairs: total edits / total reference words."""
    edits = words = 0
    for reference, hypothesis in pairs:
        ref, hyp = normalise(reference), normalise(hypothesis)
        edits += edit_distance(ref, hyp)
        words += len(ref)
    return edits / words if words else 0.0
