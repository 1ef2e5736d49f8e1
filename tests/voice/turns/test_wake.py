"""The wake phrase on transcripts as Whisper writes them, and the follow-up window. No audio."""

from __future__ import annotations

import pytest

from koe.config.schema import RunSettings
from koe.voice.stt.wer import normalise
from koe.voice.turns.wake import (
    ACKNOWLEDGEMENT,
    AFTER_WAKE_SECONDS,
    Admission,
    WakeGate,
    find_wake_phrase,
    sound_distance,
    sound_key,
    strip_words,
)

HEY_KOE = RunSettings(wake_phrase="hey koe", follow_up_seconds=8.0)


def gate(settings: RunSettings = HEY_KOE) -> WakeGate:
    return WakeGate(settings)


# Whisper's spellings of a spoken "hey koe" (most of them heard from Piper's voice here).
@pytest.mark.parametrize("transcript", [
    "Hey koe, what time is it?",
    "Hey, Ko. What time is it?",
    "Hey co, what time is it?",
    "Hey, co. What time is it?",
    "hey ko what time is it",
    "Hey Coe, what time is it?",
    "Hey Kō, what time is it?",
    "Hey, Cole. What time is it?",
    "Hey Cole, what time is it?",
    "Hey, go. What time is it?",
    "Echo, what time is it?",
    "Heiko, what time is it?",
    "A koe, what time is it?",
    "He co, what time is it?",
    "HEY KOE! What time is it?",
    "Hey-koe, what time is it?",
    "Um, hey koe, what time is it?",
    "Okay, hey co, what time is it?",
    "Hey, hey koe, what time is it?",
])
def test_spellings_of_the_phrase_are_heard_and_cut_off(transcript: str) -> None:
    admission = gate().admit(transcript, now=100.0)
    assert admission.admitted
    assert admission.reason == "wake_phrase"
    assert normalise(admission.question) == ["what", "time", "is", "it"]
    assert admission.question.startswith("What")


@pytest.mark.parametrize("transcript", [
    "OK, go on.",
    "Okay, go one.",
    "He cooked dinner.",
    "Hey Joe, what time is it?",
    "Hey, Joe. What's up?",
    "Hey, what time is it?",
    "What time is it?",
    "Hey Kay, come here.",
    "Hey, Kate, come here.",
    "Hi, Chloe.",
    "Hey, Chloe.",
    "Hey, cool.",
    "Okay, cool.",
    "Hockey is on tonight.",
    "I call my mother on Sundays.",
    "Nicole, what time is it?",
    "They call it a day.",
    "Hey, could you pass the salt?",
    "Hey, Google, what time is it?",
    "Hello there.",
    "Go on then.",
    "Coffee, please.",
    "I bought a new coat.",
    "What time is it, hey koe?",  # the phrase must come first
])
def test_other_speech_is_not_the_phrase(transcript: str) -> None:
    admission = gate().admit(transcript, now=100.0)
    assert admission == Admission(False, "", "ignored")


@pytest.mark.parametrize("transcript", ["Hey koe.", "Hey, Cole.", "Hey, go.", "Echo!", "hey co"])
def test_the_phrase_alone_means_listening(transcript: str) -> None:
    admission = gate().admit(transcript, now=5.0)
    assert admission.admitted and admission.listening
    assert admission.question == ""


def test_a_question_is_not_listening() -> None:
    assert not gate().admit("Hey koe, what time is it?", now=0.0).listening
    assert not gate().admit("What time is it?", now=0.0).listening


def test_the_acknowledgement_is_short() -> None:
    assert 1 <= len(normalise(ACKNOWLEDGEMENT)) <= 3


# -- the follow-up window -------------------------------------------------------------------

def test_no_phrase_is_needed_within_the_follow_up_window() -> None:
    g = gate()
    assert not g.admit("And tomorrow?", now=10.0).admitted
    g.replied(now=20.0)
    assert g.admit("And tomorrow?", now=20.5) == Admission(True, "And tomorrow?", "follow_up")
    assert g.admit("And tomorrow?", now=28.0).admitted  # 8 s after the reply: still open
    assert g.admit("And tomorrow?", now=28.01) == Admission(False, "", "ignored")


def test_each_reply_opens_the_window_again() -> None:
    g = gate()
    g.replied(now=0.0)
    g.replied(now=7.0)
    assert g.admit("And then?", now=14.0).admitted
    assert not g.admit("And then?", now=15.5).admitted


def test_speech_that_interrupted_a_reply_is_admitted() -> None:
    """The user talked over koe at 31 s; the reply stopped at 31.3 s (replied), then the
    interruption is transcribed and admitted by the time it began."""
    g = gate()
    g.replied(now=31.3)
    assert g.admit("No, stop, I meant Tuesday.", now=31.0).admitted


def test_the_phrase_within_the_window_is_still_cut_off() -> None:
    g = gate()
    g.replied(now=0.0)
    admission = g.admit("Hey co, and tomorrow?", now=1.0)
    assert admission.reason == "wake_phrase"
    assert admission.question == "And tomorrow?"


def test_admit_changes_nothing() -> None:
    """The loop may ask about speculative transcripts that it later drops."""
    g = gate()
    g.admit("Hey koe.", now=0.0)
    g.admit("Hey koe, what time is it?", now=0.0)
    assert not g.in_follow_up(0.1)
    assert not g.admit("What time is it?", now=0.1).admitted


def test_after_the_phrase_alone_the_question_may_follow_without_it() -> None:
    g = gate()
    assert g.admit("Hey koe.", now=3.0).listening
    g.woken(now=4.0)  # "Yes?" played
    assert g.admit("What time is it?", now=6.0) == Admission(True, "What time is it?",
                                                             "follow_up")


def test_woken_opens_a_window_even_when_follow_up_is_off() -> None:
    g = gate(RunSettings(wake_phrase="hey koe", follow_up_seconds=0.0))
    g.replied(now=0.0)
    assert not g.admit("And tomorrow?", now=0.5).admitted
    g.woken(now=1.0)
    assert g.admit("What time is it?", now=1.0 + AFTER_WAKE_SECONDS).admitted


def test_close_ends_the_window() -> None:
    g = gate()
    g.replied(now=0.0)
    g.close()
    assert not g.admit("And tomorrow?", now=1.0).admitted


# -- no wake phrase, empty speech ------------------------------------------------------------

def test_without_a_wake_phrase_everything_is_admitted_whole() -> None:
    g = WakeGate()
    assert not g.enabled
    assert g.admit("  Hey koe, what time is it? ", now=0.0) == Admission(
        True, "Hey koe, what time is it?", "always")
    assert g.admit("He cooked dinner.", now=1e6).admitted


@pytest.mark.parametrize("transcript", ["", "   ", "...", "?!"])
def test_no_words_are_never_admitted(transcript: str) -> None:
    assert gate().admit(transcript, now=0.0) == Admission(False, "", "empty")
    assert WakeGate().admit(transcript, now=0.0).reason == "empty"


# -- other phrases ----------------------------------------------------------------------------

@pytest.mark.parametrize(("phrase", "yes", "no"), [
    ("hey jarvis", "Hey, Jarvis. Lights off.", "Hey Travis, lights off."),
    ("computer", "Computer, lights off.", "Come here, lights off."),
    ("okay koe", "Okay, co. Lights off.", "Okay, Joe. Lights off."),
    ("koe", "Koe, lights off.", "Go, lights off."),
])
def test_any_phrase_can_be_the_wake_phrase(phrase: str, yes: str, no: str) -> None:
    g = WakeGate(RunSettings(wake_phrase=phrase))
    assert g.admit(yes, now=0.0).question == "Lights off."
    assert not g.admit(no, now=0.0).admitted


# -- the parts --------------------------------------------------------------------------------

@pytest.mark.parametrize(("words", "key"), [
    ("hey koe", "hAkO"), ("hey co", "hAkO"), ("heiko", "hAkO"), ("echo", "ekO"),
    ("hey cole", "hAkOl"), ("hey joe", "hAJO"), ("he cooked", "hEkUked"),
    ("kō", "kO"), ("knight", "nIt"), ("phone", "fOn"), ("school", "skUl"),
])
def test_sound_keys(words: str, key: str) -> None:
    assert sound_key(normalise(words)) == key


def test_sound_distance_is_cheap_for_what_recognition_confuses() -> None:
    assert sound_distance("hAkO", "hAkO") == 0
    assert sound_distance("hAkO", "AkO") == 0.25  # a lost h
    assert sound_distance("hAkO", "hAgO") == 0.5  # voiced for unvoiced
    assert sound_distance("hAkO", "hAkOl") == 0.5  # a trailing l
    assert sound_distance("hAkO", "hAklO") == 1.0  # an l inside is a sound of its own
    assert sound_distance("hAkO", "hAJO") == 1.0
    assert sound_distance("hAkO", "") == sound_distance("", "hAkO") == 3.25


def test_the_match_says_how_much_of_the_transcript_it_took() -> None:
    match = find_wake_phrase("hey koe", "Um, hey, co. What time is it?")
    assert match is not None
    assert (match.words, match.similarity) == (3, 1.0)
    assert find_wake_phrase("hey koe", "Hey Joe", min_similarity=0.7) is not None
    assert find_wake_phrase("hey koe", "Hey Joe") is None
    assert find_wake_phrase("", "Hey koe") is None


@pytest.mark.parametrize(("text", "words", "rest"), [
    ("Hey, Ko. what time is it?", 2, "What time is it?"),
    ("Hey koe", 2, ""),
    ("Hey-koe, it's 5 o'clock", 2, "It's 5 o'clock"),
    ("Hey koe... um", 2, "Um"),
    ("Hey koe", 0, "Hey koe"),
])
def test_strip_words_keeps_the_rest_as_written(text: str, words: int, rest: str) -> None:
    assert strip_words(text, words) == rest


def test_wake_phrase_setting_is_tidied_and_checked() -> None:
    assert RunSettings(wake_phrase="  hey   koe ").wake_phrase == "hey koe"
    with pytest.raises(ValueError, match="at least one word"):
        RunSettings(wake_phrase="?!")
    with pytest.raises(ValueError):
        WakeGate(HEY_KOE, min_similarity=0.0)
