"""Hallucination guards as pure logic: no model needed."""

from __future__ import annotations

from koe.config.schema import GuardSettings
from koe.voice.stt.guards import collapse_repeats, guard_segments, is_hallucination
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
