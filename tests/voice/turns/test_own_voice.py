"""koe's own words heard back are its echo, not a question; the user's words are questions."""

from __future__ import annotations

from koe.config.schema import RunSettings
from koe.voice.turns.own_voice import OwnVoice
from koe.voice.turns.wake import WakeGate


def voice_that_said(*lines: tuple[str, float]) -> OwnVoice:
    own = OwnVoice()
    for text, at in lines:
        own.said(text, at)
    return own


def test_its_own_last_words_are_its_echo() -> None:
    own = voice_that_said(("Thanks for asking.", 10.0), ("You're welcome!", 12.0))
    assert own.is_echo("You're welcome.", 13.5)
    assert own.is_echo("thanks for asking, you're", 12.8)  # a run across two chunks


def test_a_question_sharing_some_of_its_words_is_a_question() -> None:
    own = voice_that_said(("Your bike lock code is 4172.", 30.0))
    assert not own.is_echo("What is my bike lock code?", 35.0)
    assert not own.is_echo("Thanks.", 33.0)  # one word is too common to call


def test_words_said_long_before_or_after_are_not_echoed() -> None:
    own = voice_that_said(("The tallest mountain in Africa is Kilimanjaro.", 10.0))
    assert own.is_echo("the tallest mountain in Africa", 12.0)
    assert not own.is_echo("the tallest mountain in Africa", 40.0)
    assert not own.is_echo("the tallest mountain in Africa", 8.0)


def test_the_gate_admits_no_echo_even_without_a_wake_phrase() -> None:
    for settings in (RunSettings(), RunSettings(wake_phrase="hey koe")):
        gate = WakeGate(settings)
        gate.said("There are seven days in a week.", 5.0)
        gate.replied(7.0)
        echo = gate.admit("There are seven days in a week.", 7.2)
        assert not echo.admitted and echo.reason == "echo"
        assert gate.admit("And how many in a year?", 8.0).admitted
