"""Hallucination guards as pure logic: no model needed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from koe.config.schema import GuardSettings
from koe.voice.stt.guards import (
    collapse_repeats,
    guard_segments,
    invented_for_clip,
    is_hallucination,
    syllables,
)
from koe.voice.stt.segments import TranscriptSegment

LIMITS = GuardSettings()


def seg(text: str, logprob: float = -0.3, no_speech: float = 0.1, start: float = 0.0
        ) -> TranscriptSegment:
    return TranscriptSegment(start, start + 2.0, text, logprob, no_speech)


def test_confident_speech_is_kept() -> None:
    assert not is_hallucination(seg("Turn the lights off."), LIMITS)


def test_whispers_silence_rule() -> None:
    assert is_hallucination(seg("Thank you.", logprob=-1.2, no_speech=0.7), LIMITS)
    # Likely silence but confident text: Whisper's own rule keeps it ...
    assert not is_hallucination(seg("Thank you.", logprob=-0.5, no_speech=0.7), LIMITS)
    # ... unless the model is nearly sure there was no speech at all.
    assert is_hallucination(seg("You", logprob=-0.8, no_speech=0.95), LIMITS)


def test_very_low_confidence_is_dropped() -> None:
    assert is_hallucination(seg("grumble mumble", logprob=-1.8, no_speech=0.0), LIMITS)


def test_empty_text_is_dropped() -> None:
    assert is_hallucination(seg("   "), LIMITS)


def test_collapse_single_word_loop() -> None:
    assert collapse_repeats("no no no no no no no no", 3) == "no"


def test_collapse_phrase_loop_keeps_surroundings() -> None:
    text = "I said " + "thank you so much, " * 6 + "goodbye."
    assert collapse_repeats(text, 3) == "I said thank you so much, goodbye."


def test_short_honest_repeats_survive() -> None:
    assert collapse_repeats("no no no, not that one", 3) == "no no no, not that one"
    assert collapse_repeats("that that is is that that is not", 3) == (
        "that that is is that that is not"
    )


def test_segment_repeated_verbatim_is_dropped_after_limit() -> None:
    segments = [seg("Thanks for watching!", start=i * 2.0) for i in range(6)]
    segments.append(seg("Real words at the end.", start=20.0))
    kept = [s.text for s in guard_segments(segments, LIMITS)]
    assert kept == ["Thanks for watching!"] * 3 + ["Real words at the end."]


def test_guard_rewrites_text_of_looping_segment() -> None:
    [kept] = guard_segments([seg("go " * 12)], LIMITS)
    assert kept.text == "go"


def clip_seg(text: str, no_speech: float, logprob: float = -0.9) -> TranscriptSegment:
    return TranscriptSegment(0.0, 1.0, text, logprob, no_speech)


def test_a_fifth_of_a_second_invented_into_thanks_is_dropped() -> None:
    # The reported case: Whisper's own rule keeps it (log-probability above -1.0) ...
    thanks = clip_seg("Thank you.", no_speech=0.78)
    assert not is_hallucination(thanks, LIMITS)
    # ... the length of the clip it came from gives it away, by either short-clip rule.
    assert is_hallucination(thanks, LIMITS, clip_seconds=0.2)
    assert invented_for_clip(clip_seg("Thank you.", no_speech=0.3), LIMITS, 0.2)


def test_a_short_word_that_fits_its_clip_is_kept() -> None:
    assert not is_hallucination(clip_seg("Yes.", no_speech=0.55), LIMITS, clip_seconds=0.3)
    assert not is_hallucination(clip_seg("What time is it?", no_speech=0.45), LIMITS,
                                clip_seconds=0.7)


def test_the_same_text_from_a_long_clip_is_kept() -> None:
    assert not is_hallucination(clip_seg("Thank you.", no_speech=0.58), LIMITS,
                                clip_seconds=5.0)


def test_punctuation_alone_is_no_text() -> None:
    assert is_hallucination(seg(" . "), LIMITS)


@given(st.lists(st.sampled_from(["thank", "you", "middle", "sure", "free", "canoe", "eye",
                                 "10", "ありがとう", "what's", "rhythm"]), max_size=12))
def test_syllables_never_exceed_a_generous_count(words: list[str]) -> None:
    # Each of these words has at most three syllables: the count may be low, never high,
    # so the rate rule can only ever keep text it is unsure about.
    assert syllables(" ".join(words)) <= 3 * len(words)
    assert syllables(" ".join(words)) >= (1 if words else 0)


@given(seconds=st.floats(0.05, 30.0), no_speech=st.floats(0.0, 1.0),
       text=st.sampled_from(["Thank you.", "Yes.", "We'll see you next time.", "and so"]))
def test_a_segment_dropped_from_a_clip_is_dropped_from_any_shorter_one(
        seconds: float, no_speech: float, text: str) -> None:
    segment = clip_seg(text, no_speech)
    if is_hallucination(segment, LIMITS, clip_seconds=seconds):
        assert is_hallucination(segment, LIMITS, clip_seconds=seconds / 2)
