"""Barge-in listening: real speech over silence, through the real VAD and the barge-in rule."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from koe.config.schema import ListenSettings
from koe.voice.assistant.interruption import SETTLE_SECONDS, BargeInListener
from koe.voice.audio.chunks import FRAME_SAMPLES, AudioChunk, Framer
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.resample import resample
from tests.voice.assistant.helpers import voice


def speech(seconds: float) -> np.ndarray:
    """The first `seconds` of real (synthesised) speech, 16 kHz int16."""
    said = voice().speak("Wait, stop, that is not what I asked at all, listen to me.")
    pcm = resample(said.pcm, said.sample_rate, SAMPLE_RATE)
    start = said.voiced[0] * SAMPLE_RATE // said.sample_rate
    return pcm[start:start + int(seconds * SAMPLE_RATE)]


def chunks(*parts: np.ndarray, start: int = 0) -> list[AudioChunk]:
    framer = Framer(FRAME_SAMPLES, start)
    return framer.push(np.concatenate(parts)) + framer.push(np.zeros(FRAME_SAMPLES, np.int16))


def first_barge_in(listener: BargeInListener, pcm_chunks: list[AudioChunk], speaking: bool):
    for chunk in pcm_chunks:
        if (hit := listener.feed(chunk, speaking)) is not None:
            return hit
    return None


def test_the_interruption_is_heard_from_its_onset() -> None:
    listener = BargeInListener(ListenSettings())
    listener.echo_heard = SETTLE_SECONDS  # a canceller that has settled
    listener.start(0)
    quiet = np.zeros(SAMPLE_RATE, dtype=np.int16)
    hit = first_barge_in(listener, chunks(quiet, speech(1.0)), speaking=True)
    assert hit is not None
    assert abs(hit.speech_sample - SAMPLE_RATE) < 0.1 * SAMPLE_RATE  # the onset, at 1 s
    start, audio = listener.audio_from(hit.speech_sample - 4800)
    assert start == hit.speech_sample - 4800 and audio.size >= hit.sample - start


def test_a_short_burst_does_not_interrupt_while_the_canceller_settles() -> None:
    burst = speech(0.2)
    settling = BargeInListener(ListenSettings())
    settling.start(0)
    assert first_barge_in(settling, chunks(burst, np.zeros(8000, np.int16)), False) is None
    settled = BargeInListener(ListenSettings())
    settled.echo_heard = SETTLE_SECONDS
    settled.start(0)
    assert first_barge_in(settled, chunks(burst, np.zeros(8000, np.int16)), True) is not None


def test_koe_speaking_teaches_the_canceller() -> None:
    listener = BargeInListener(ListenSettings())
    listener.start(0)
    silence = np.zeros(int(SETTLE_SECONDS * SAMPLE_RATE) + FRAME_SAMPLES, dtype=np.int16)
    first_barge_in(listener, chunks(silence), speaking=True)
    assert listener.echo_heard >= SETTLE_SECONDS


def test_what_the_canceller_marked_as_its_echo_never_interrupts_but_is_kept() -> None:
    listener = BargeInListener(ListenSettings())
    listener.echo_heard = SETTLE_SECONDS
    listener.start(0)
    words = speech(1.0)
    marked = [replace(chunk, echo=True) for chunk in chunks(words)]
    assert first_barge_in(listener, marked, speaking=True) is None
    start, audio = listener.audio_from(0)
    assert start == 0 and np.array_equal(audio[:words.size], words)  # kept as heard
    # The same words, not marked, are the user talking over koe.
    listener.start(marked[-1].end)
    assert first_barge_in(listener, chunks(words, start=marked[-1].end), True) is not None


def test_the_interruption_reaches_back_over_its_onset_taken_for_echo() -> None:
    """The user's first syllable, turned down with the echo and taken for it, still opens
    their words: the interruption is heard from before it (up to REACH_BACK_SECONDS)."""
    listener = BargeInListener(ListenSettings())
    listener.echo_heard = SETTLE_SECONDS
    listener.start(0)
    words = speech(1.0)
    quiet = np.zeros(SAMPLE_RATE, dtype=np.int16)
    heard = chunks(quiet, words)
    first_word = SAMPLE_RATE // FRAME_SAMPLES  # the chunk the words begin in
    taken = {first_word, first_word + 1}  # their first 60 ms taken for echo
    heard = [replace(c, echo=i in taken) for i, c in enumerate(heard)]
    hit = first_barge_in(listener, heard, speaking=True)
    assert hit is not None and hit.speech_sample >= (first_word + 2) * FRAME_SAMPLES
    start, _ = listener.interruption(hit)
    pre_roll = round(ListenSettings().pre_roll_seconds * SAMPLE_RATE)
    assert start == first_word * FRAME_SAMPLES - pre_roll
