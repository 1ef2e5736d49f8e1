"""The wake gate on what Whisper really hears: Piper speaks, the packaged Whisper listens."""

from __future__ import annotations

import numpy as np
import pytest

from koe.config.schema import RunSettings, TtsSettings
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.resample import resample
from koe.voice.stt.transcriber import Transcriber
from koe.voice.stt.wer import normalise
from koe.voice.tts.synthesizer import PiperSynthesizer
from koe.voice.turns.wake import WakeGate

pytestmark = pytest.mark.slow

SPEEDS = (0.8, 1.0, 1.25)  # Whisper writes "Hey co", "Hey, Cole", "Echo" ... across these


@pytest.fixture(scope="module")
def voices() -> dict[float, PiperSynthesizer]:
    return {speed: PiperSynthesizer.load(TtsSettings(speed=speed)) for speed in SPEEDS}


def heard(transcriber: Transcriber, voice: PiperSynthesizer, text: str) -> str:
    spoken = voice.speak(text)
    audio = resample(spoken.pcm.astype(np.float32) / 32768, spoken.sample_rate, SAMPLE_RATE)
    return " ".join(s.text for s in transcriber.transcribe(audio).segments)


@pytest.mark.parametrize("speed", SPEEDS)
def test_spoken_wake_phrase_and_question(transcriber: Transcriber,
                                         voices: dict[float, PiperSynthesizer],
                                         speed: float) -> None:
    gate = WakeGate(RunSettings(wake_phrase="hey koe"))
    transcript = heard(transcriber, voices[speed], "Hey koe, what time is it?")
    admission = gate.admit(transcript, now=0.0)
    assert admission.admitted, transcript
    assert admission.reason == "wake_phrase"
    assert normalise(admission.question) == ["what", "time", "is", "it"], transcript


@pytest.mark.parametrize("speed", SPEEDS)
def test_spoken_wake_phrase_alone_means_listening(transcriber: Transcriber,
                                                  voices: dict[float, PiperSynthesizer],
                                                  speed: float) -> None:
    gate = WakeGate(RunSettings(wake_phrase="hey koe"))
    transcript = heard(transcriber, voices[speed], "Hey koe.")
    assert gate.admit(transcript, now=0.0).listening, transcript


@pytest.mark.parametrize("text", ["OK, go on.", "He cooked dinner.", "Hey Joe, what time is it?",
                                  "Hey, what time is it?", "Hey Kate, come here."])
def test_spoken_speech_without_the_phrase_is_ignored_then_admitted_after_a_reply(
        transcriber: Transcriber, voices: dict[float, PiperSynthesizer], text: str) -> None:
    gate = WakeGate(RunSettings(wake_phrase="hey koe", follow_up_seconds=8.0))
    transcript = heard(transcriber, voices[1.0], text)
    assert gate.admit(transcript, now=10.0).reason == "ignored", transcript
    gate.replied(now=12.0)
    admission = gate.admit(transcript, now=13.0)
    assert admission.reason == "follow_up"
    assert normalise(admission.question) == normalise(transcript)
    assert gate.admit(transcript, now=20.5).reason == "ignored"
