"""Echo the canceller let through is told from the user's voice (koe.voice.audio.echo.leak).

The canceller's output is built here as each case needs it (a leak is the echo a few dB down;
a user over koe is their voice with the echo gone), around real speech: Piper's voice for koe
and for the user alike, the hardest case, since two stretches of one voice look most alike.
"""

from __future__ import annotations

import numpy as np
import pytest

from koe.voice.audio.chunks import FRAME_SAMPLES
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.leak import LeakDetector
from tests.voice.audio.echo_signals import (
    INTERRUPTION,
    RATE,
    REPLY,
    barge_in_at,
    spoken_16k,
    voiced,
)

pytestmark = pytest.mark.slow  # Piper speaks the signals

DELAY = round(0.12 * RATE)  # the room's echo path
USER_AT = RATE  # the user starts talking 1 s into koe's reply


def delayed(pcm: np.ndarray, by: int, length: int, gain: float = 1.0) -> np.ndarray:
    out = np.zeros(length, dtype=np.float64)
    out[by:by + len(pcm)] = pcm[: max(0, length - by)].astype(np.float64) * gain
    return out


def as_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def judge(played: np.ndarray, raw: np.ndarray, out: np.ndarray,
          detector: LeakDetector | None = None) -> np.ndarray:
    """The detector's verdict on each 30 ms chunk, the far end holding `played` from 0."""
    if detector is None:
        far = FarEnd()
        far.write(played, 0)
        detector = LeakDetector(far)
    return np.array([detector.leaked(raw[i:i + FRAME_SAMPLES], out[i:i + FRAME_SAMPLES], i)
                     for i in range(0, len(raw) - FRAME_SAMPLES + 1, FRAME_SAMPLES)])


def level_db(pcm: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(pcm / 32768.0)) + 1e-12))


def loud_chunks(pcm: np.ndarray) -> np.ndarray:
    """The 30 ms chunks of `pcm` where a voice is clearly speaking (above -40 dBFS)."""
    return np.array([level_db(pcm[i:i + FRAME_SAMPLES]) > -40
                     for i in range(0, len(pcm) - FRAME_SAMPLES + 1, FRAME_SAMPLES)])


@pytest.fixture(scope="module")
def reply() -> np.ndarray:
    return spoken_16k(REPLY)


@pytest.fixture(scope="module")
def user() -> np.ndarray:
    return spoken_16k(INTERRUPTION)


def test_echo_let_through_is_found(reply: np.ndarray) -> None:
    length = len(reply) + DELAY
    echo = delayed(reply, DELAY, length, 0.5)
    for let_through in (0.5, 0.2, 0.05):  # 6, 14 and 26 dB removed: AEC3 losing the room
        verdicts = judge(reply, as_int16(echo), as_int16(echo * let_through))
        speech = voiced(as_int16(echo))[: len(verdicts)]
        assert verdicts[speech].mean() >= 0.9, let_through


def test_a_user_talking_over_koe_is_kept(reply: np.ndarray, user: np.ndarray) -> None:
    length = len(reply) + DELAY
    echo = delayed(reply, DELAY, length, 0.5)
    words = delayed(user, USER_AT, length)
    raw = as_int16(echo + words)
    loud = loud_chunks(words)
    assert loud.sum() > 30
    onset = int(np.argmax(loud)) * FRAME_SAMPLES
    for leftover in (0.0, 0.03):  # the echo gone, or 30 dB of it left under the user's voice
        out = as_int16(0.7 * words + leftover * echo)  # AEC3 turns a talking user down ~3 dB
        verdicts = judge(reply, raw, out)
        assert verdicts[loud].mean() <= 0.2, leftover  # 0.4 % on average; Piper varies
        # The barge-in rule, hearing what the detector keeps, decides on the user's words
        # (the echo left under them is no longer enough to decide on) and soon after they
        # begin: the rule's own 120 ms and a frame or two.
        kept = out.copy()
        for chunk in np.flatnonzero(verdicts):
            kept[chunk * FRAME_SAMPLES:(chunk + 1) * FRAME_SAMPLES] = 0
        decided = barge_in_at(kept)
        assert decided is not None
        assert onset <= decided <= onset + round(0.25 * RATE), leftover


def test_what_the_canceller_all_but_removed_is_silenced(reply: np.ndarray) -> None:
    echo = delayed(reply, DELAY, len(reply) + DELAY, 0.5)
    verdicts = judge(reply, as_int16(echo), as_int16(echo * 0.01))  # 40 dB removed
    assert verdicts[voiced(as_int16(echo))[: len(verdicts)]].all()


def test_nothing_is_silenced_while_nothing_plays(user: np.ndarray) -> None:
    words = as_int16(delayed(user, 0, len(user) + RATE))
    silence = np.zeros(0, dtype=np.int16)
    assert not judge(silence, words, words).any()
    assert not judge(silence, words, as_int16(words * 0.001)).any()


def test_without_a_clear_echo_a_voice_is_never_taken_for_one(
        reply: np.ndarray, user: np.ndarray) -> None:
    """The microphone never matches the far end (someone talking, no echo heard): no delay is
    known, and the user's words pass, even with koe playing."""
    words = as_int16(delayed(user, 0, len(reply)))
    far = FarEnd()
    far.write(reply, 0)
    detector = LeakDetector(far)
    verdicts = judge(reply, words, words, detector)
    assert not verdicts[loud_chunks(words)[: len(verdicts)]].any()
    assert detector.delay is None


def test_the_delay_is_learnt_again_on_a_new_output_stream(reply: np.ndarray) -> None:
    half = len(reply) // 2
    far = FarEnd()
    far.write(reply[:half], 0)
    detector = LeakDetector(far)
    echo = as_int16(delayed(reply[:half], DELAY, half, 0.5))
    judge(reply, echo, echo, detector)
    assert detector.delay == pytest.approx(DELAY, abs=16)

    far.moved()  # the speaker placed its audio anew: the echo now comes 80 ms later
    later = DELAY + round(0.08 * RATE)
    far.write(reply[half:], half)
    echo = as_int16(delayed(reply[half:], later, half, 0.5))
    verdicts = np.array([detector.leaked(echo[i:i + FRAME_SAMPLES], echo[i:i + FRAME_SAMPLES],
                                         half + i)
                         for i in range(0, half - FRAME_SAMPLES + 1, FRAME_SAMPLES)])
    assert detector.delay == pytest.approx(later, abs=16)
    assert verdicts[voiced(echo)[: len(verdicts)]].mean() >= 0.9
