"""Hallucination guards: Whisper invents text for silence and loops on repeats. Pure logic."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace

from koe.config.schema import GuardSettings
from koe.voice.stt.segments import TranscriptSegment


def is_hallucination(segment: TranscriptSegment, limits: GuardSettings,
                     clip_seconds: float | None = None) -> bool:
    """Whisper's own skip rule, applied per segment, plus a floor on confidence; given the
    length of the clip, also the short-clip rule (see `invented_for_clip`)."""
    if not _WORDLIKE.search(segment.text):
        return True  # empty, or punctuation alone (".")
    if clip_seconds is not None and invented_for_clip(segment, limits, clip_seconds):
        return True
    if segment.avg_logprob < limits.min_avg_logprob:
        return True
    if segment.no_speech_prob > limits.max_no_speech_prob:
        return True  # silence alone still gets "You" at a passable log-probability
    return (
        segment.no_speech_prob > limits.no_speech_threshold
        and segment.avg_logprob < limits.logprob_threshold
    )


def invented_for_clip(segment: TranscriptSegment, limits: GuardSettings,
                      clip_seconds: float) -> bool:
    """Whisper pads a clip to 30 s: a fragment of a fifth of a second gives it almost nothing,
    and it fills the gap with its favourite phrases ("Thank you.") at a middling no-speech
    probability. In a short clip that probability is trusted sooner, and text with more
    syllables than the clip could hold is dropped whatever the clip's length."""
    if (clip_seconds < limits.short_clip_seconds
            and segment.no_speech_prob > limits.short_clip_max_no_speech_prob):
        return True
    return syllables(segment.text) > limits.max_syllables_per_second * clip_seconds


_WORDLIKE = re.compile(r"[^\W_]")
_SPELLED = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def syllables(text: str) -> int:
    """Syllables in `text`, never more than it has: vowel groups of each Latin-script word,
    a silent final e left out; any other word (a number, another script) counts once. An
    undercount only ever keeps text, so it errs that way."""
    count = 0
    for word in _SPELLED.findall(text.lower()):
        groups = len(_VOWEL_GROUPS.findall(word)) if word.isascii() else 1
        if groups > 1 and word.endswith("e") and not word.endswith(("le", "ee", "ye")):
            groups -= 1
        count += max(1, groups)
    return count + len(re.findall(r"\d+", text))


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
    segments: Iterable[TranscriptSegment], limits: GuardSettings,
    clip_seconds: float | None = None,
) -> Iterator[TranscriptSegment]:
    """Drop invented segments, collapse loops inside one, and drop a segment repeated verbatim.
    `clip_seconds`, the length of the audio transcribed, turns the short-clip rule on."""
    previous = ""
    repeats = 0
    for segment in segments:
        if is_hallucination(segment, limits, clip_seconds):
            continue
        text = collapse_repeats(segment.text.strip(), limits.max_repeats)
        key = _key(text)
        repeats = repeats + 1 if key == previous else 0
        previous = key
        if repeats >= limits.max_repeats:
            continue
        yield replace(segment, text=text) if text != segment.text else segment
