"""Hallucination guards: Whisper invents text for silence and loops on repeats. Pure logic."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace

from koe.config.schema import GuardSettings
from koe.voice.stt.segments import TranscriptSegment


def is_hallucination(segment: TranscriptSegment, limits: GuardSettings) -> bool:
    """Whisper's own skip rule, applied per segment, plus a floor on confidence."""
    if not segment.text.strip():
        return True
    if segment.avg_logprob < limits.min_avg_logprob:
        return True
    if segment.no_speech_prob > limits.max_no_speech_prob:
        return True  # silence alone still gets "You" at a passable log-probability
    return (
        segment.no_speech_prob > limits.no_speech_threshold
        and segment.avg_logprob < limits.logprob_threshold
    )


_WORD = re.compile(r"\S+")


def collapse_repeats(text: str, max_repeats: int) -> str:
    """Cut any phrase of 1-8 words repeated more than `max_repeats` times in a row to one copy."""
    words = _WORD.findall(text)
    if len(words) <= max_repeats:
        return text
    keys = [_key(w) for w in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        span, count = _longest_loop(keys, i, max_repeats)
        if count > max_repeats:
            out.extend(words[i : i + span])
            i += span * count
        else:
            out.append(words[i])
            i += 1
    return " ".join(out) if len(out) < len(words) else text


def _longest_loop(keys: list[str], start: int, max_repeats: int) -> tuple[int, int]:
    """(phrase length, repeat count) of the most-repeated phrase beginning at `start`."""
    best = (1, 1)
    for span in range(1, 9):
        phrase = keys[start : start + span]
        if len(phrase) < span:
            break
        count = 1
        while keys[start + span * count : start + span * (count + 1)] == phrase:
            count += 1
        if count > max_repeats and span * count > best[0] * best[1]:
            best = (span, count)
    return best


def _key(word: str) -> str:
    return word.strip(".,!?;:\"'").lower()


def guard_segments(
    segments: Iterable[TranscriptSegment], limits: GuardSettings
) -> Iterator[TranscriptSegment]:
    """Drop invented segments, collapse loops inside one, and drop a segment repeated verbatim."""
    previous = ""
    repeats = 0
    for segment in segments:
        if is_hallucination(segment, limits):
            continue
        text = collapse_repeats(segment.text.strip(), limits.max_repeats)
        key = _key(text)
        repeats = repeats + 1 if key == previous else 0
        previous = key
        if repeats >= limits.max_repeats:
            continue
        yield replace(segment, text=text) if text != segment.text else segment
