"""The barge-in rule on synthetic is_speech sequences: no audio, no webrtcvad, no clock.

What the sequences stand for (measured with WebRTC AEC3 in simulated rooms, see MODELS.md):
residual echo is flagged on 0-1 % of frames, one frame here and there; the user talking over
koe, dampened 3-7 dB by the canceller, is flagged on 47-79 % of their frames.
"""

from __future__ import annotations

import numpy as np
import pytest

from koe.config.schema import ListenSettings
from koe.voice.turns.barge_in import BargeIn, BargeInRule

SR = 16_000


def ms(n: float) -> int:
    return round(n * SR / 1000)


def feed(rule: BargeInRule, flags: list[bool] | np.ndarray, frame_ms: int = 30) -> list[BargeIn]:
    """One frame per flag; every event, in order."""
    events = []
    for flag in flags:
        event = rule.process(ms(frame_ms), bool(flag))
        if event is not None:
            events.append(event)
    return events


def pattern(text: str, repeat: int = 1) -> list[bool]:
    """'V' voiced, '.' not, one character per frame."""
    return [c == "V" for c in text * repeat]


def quiet(frames: int) -> list[bool]:
    return [False] * frames


# -- echo never barges in ---------------------------------------------------------------------

@pytest.mark.parametrize(("frame_ms", "every"), [(30, 4), (20, 3), (10, 3)])
def test_isolated_echo_blips_never_barge_in(frame_ms: int, every: int) -> None:
    """A lone voiced frame every few frames, for ten minutes: far denser than AEC3 leaves."""
    frames = 600_000 // frame_ms
    flags = [i % every == 0 for i in range(frames)]
    assert feed(BargeInRule(), flags, frame_ms) == []


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_random_residual_echo_never_barges_in(frame_ms: int) -> None:
    """Half an hour of echo flagged at random on 1 % of frames (AEC3's worst measured rate)."""
    rng = np.random.default_rng(7)
    flags = rng.random(1_800_000 // frame_ms) < 0.01
    assert feed(BargeInRule(), flags, frame_ms) == []


@pytest.mark.parametrize("burst_ms", [30, 60, 90])
def test_short_echo_bursts_with_gaps_never_add_up(burst_ms: int) -> None:
    """A burst shorter than the threshold, then enough silence that no window holds two."""
    gap_ms = 300 - burst_ms
    flags = pattern("V" * (burst_ms // 30) + "." * (gap_ms // 30), repeat=2000)
    assert feed(BargeInRule(), flags) == []


def test_a_lone_click_then_speech_much_later_counts_from_the_speech() -> None:
    rule = BargeInRule()
    events = feed(rule, pattern("V") + quiet(20) + pattern("VVVV"))
    assert len(events) == 1
    assert events[0].speech_sample == ms(21 * 30)


# -- the user does ----------------------------------------------------------------------------

@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_clear_speech_barges_in_once_120_ms_are_voiced(frame_ms: int) -> None:
    rule = BargeInRule()
    before = 1020 // frame_ms  # 1.02 s of koe alone
    events = feed(rule, quiet(before) + [True] * (600 // frame_ms), frame_ms)
    onset = ms(before * frame_ms)
    assert events[0].speech_sample == onset
    assert events[0].sample == onset + ms(120)  # 120 ms is a whole number of these frames
    assert events[0].delay_seconds == pytest.approx(0.12)
    assert events[0].voiced_samples == ms(120)


def test_decided_at_the_frame_that_reaches_the_threshold() -> None:
    """4 x 30 ms frames make 120 ms; 3 do not, however long the wait."""
    assert feed(BargeInRule(), pattern("VVV" + "." * 9, repeat=50)) == []
    events = feed(BargeInRule(), quiet(5) + pattern("VV.VV"))
    assert [(e.speech_sample, e.sample) for e in events] == [(ms(150), ms(300))]


@pytest.mark.parametrize("flags", [
    "V.V.V.V.V.V.V.V.",  # every other frame: 50 %
    "VV.VV.VV.VV.VV.",  # 67 %
    "V..VV..VV..VV..V",  # the low end of double talk: ~47 %, in short runs
    "VVV.VV..VVV.V..VV",  # syllables with breaks
])
def test_double_talk_patterns_barge_in_within_300_ms(flags: str) -> None:
    rule = BargeInRule()
    events = feed(rule, quiet(40) + pattern(flags))
    assert events
    assert events[0].speech_sample == ms(40 * 30)
    assert events[0].delay_seconds <= 0.3


@pytest.mark.parametrize(("density", "within_300_ms"), [(0.6, 0.95), (0.79, 0.99)])
def test_dampened_speech_barges_in_within_300_ms_nearly_always(
        density: float, within_300_ms: float) -> None:
    """Onsets of speech flagged at random on 60 % or 79 % of 10 ms frames: the decision comes
    within 300 ms of the first voiced frame nearly every time, and always comes. (When it takes
    longer, the first frames have left the window: the event's onset is a later frame.)"""
    rng = np.random.default_rng(11)
    delays = []
    for _ in range(300):
        rule = BargeInRule()
        flags = np.concatenate([[True], rng.random(200) < density])  # onset at sample 0
        events = feed(rule, flags, frame_ms=10)
        assert events, "2 s of speech always barges in"
        assert events[0].speech_sample >= 0
        delays.append(events[0].seconds)  # from the true onset at 0
    assert np.mean(np.array(delays) <= 0.3) >= within_300_ms


def test_after_a_barge_in_the_next_needs_speech_of_its_own() -> None:
    rule = BargeInRule()
    # Speech going on after the decision does not decide again at once ...
    events = feed(rule, pattern("VVVV") + pattern("VVV") + quiet(10) + pattern("VVVV"))
    # ... and what it left in the window has gone stale before the next onset.
    assert [e.sample for e in events] == [ms(120), ms(21 * 30)]


def test_tunable_threshold_and_window() -> None:
    strict = BargeInRule(voiced_seconds=0.24, window_seconds=0.3)
    assert feed(strict, pattern("V.V.V.V.V.V.V.V.V.V.")) == []
    loose = BargeInRule(voiced_seconds=0.06, window_seconds=0.3)
    assert [e.sample for e in feed(loose, pattern("..VV"))] == [ms(120)]


def test_settings_make_the_rule() -> None:
    rule = BargeInRule.from_settings(ListenSettings(barge_in_seconds=0.09,
                                                    barge_in_window_seconds=0.2))
    assert (rule.voiced_seconds, rule.window_seconds) == (0.09, 0.2)
    default = BargeInRule.from_settings(ListenSettings())
    assert (default.voiced_seconds, default.window_seconds) == (0.12, 0.3)


# -- positions --------------------------------------------------------------------------------

def test_positions_follow_the_stream_and_skipped_audio_counts_as_quiet() -> None:
    rule = BargeInRule(start_sample=ms(5000))
    assert rule.process(ms(30), True) is None
    assert rule.process(ms(30), True, position=ms(5030)) is None
    # 500 ms skipped: the two frames before the gap are out of the window.
    assert rule.process(ms(30), True, position=ms(5560)) is None
    assert rule.process(ms(30), True) is None
    assert rule.process(ms(30), True) is None
    event = rule.process(ms(30), True)
    assert event is not None
    assert (event.speech_sample, event.sample) == (ms(5560), ms(5680))
    assert event.seconds == pytest.approx(5.68)
    assert event.speech_seconds == pytest.approx(5.56)


def test_reset_forgets_what_was_heard() -> None:
    rule = BargeInRule()
    feed(rule, pattern("VVV"))
    rule.reset(at_sample=ms(10_000))
    assert rule.voiced_samples == 0
    assert rule.position == ms(10_000)
    events = feed(rule, pattern("VVVV"))
    assert [(e.speech_sample, e.sample) for e in events] == [(ms(10_000), ms(10_120))]


def test_the_event_is_a_small_frozen_record() -> None:
    event = BargeIn(ms(300), speech_sample=ms(150), voiced_samples=ms(120))
    assert event.type == "barge_in"
    with pytest.raises(AttributeError):
        event.sample = 0  # type: ignore[misc]


@pytest.mark.parametrize(("call", "message"), [
    (lambda r: r.process(0, True), "at least one sample"),
    (lambda r: r.process(ms(30), True, position=-1), "before the last frame"),
])
def test_bad_frames_are_refused(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(BargeInRule())


@pytest.mark.parametrize(("voiced", "window"), [(0.0, 0.3), (0.3, 0.2)])
def test_bad_thresholds_are_refused(voiced: float, window: float) -> None:
    with pytest.raises(ValueError):
        BargeInRule(voiced, window)
