"""The endpointing state machine on synthetic is_speech sequences: no audio, no webrtcvad."""

from __future__ import annotations

import math

import pytest

from koe.config.schema import ListenSettings
from koe.voice.turns.endpointer import Endpointer
from koe.voice.turns.events import (
    SpeechEnded,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    TurnEvent,
)
from koe.voice.turns.thresholds import PRESET_SILENCE_SECONDS, Thresholds

FRAME = 480  # 30 ms at 16 kHz
SR = 16_000


def ms(n: int) -> int:
    """A stream position or length in samples; segments here are whole 30 ms frames."""
    return n * SR // 1000


def run(endpointer: Endpointer, *segments: tuple[bool, int]) -> list[TurnEvent]:
    """Feed (is_speech, milliseconds) segments frame by frame; every event, in order."""
    events: list[TurnEvent] = []
    for is_speech, length_ms in segments:
        assert length_ms % 30 == 0, "segments are whole frames"
        for _ in range(length_ms // 30):
            events.extend(endpointer.process(FRAME, is_speech))
    return events


def types(events: list[TurnEvent]) -> list[str]:
    return [e.type for e in events]


def frame_ceil(seconds: float, frame: int = FRAME) -> int:
    """A threshold in samples, as reached at a frame boundary."""
    return math.ceil(round(seconds * SR) / frame) * frame


SPEECH, QUIET = True, False


def test_silence_produces_nothing() -> None:
    ep = Endpointer()
    assert run(ep, (QUIET, 30_000)) == []
    assert not ep.in_speech
    assert ep.position == ms(30_000)


def test_speech_shorter_than_speech_seconds_starts_nothing() -> None:
    ep = Endpointer(Thresholds(speech_seconds=0.25))
    # 8 frames = 240 ms voiced, then quiet: one frame short of 250 ms.
    assert run(ep, (QUIET, 990), (SPEECH, 240), (QUIET, 3000)) == []


def test_speech_seconds_of_voice_starts_a_turn_at_the_frame_that_reaches_it() -> None:
    ep = Endpointer(Thresholds(speech_seconds=0.25))
    events = run(ep, (QUIET, 990), (SPEECH, 270))
    assert types(events) == ["speech_started"]
    started = events[0]
    assert isinstance(started, SpeechStarted)
    assert started.speech_sample == ms(990)
    assert started.sample == ms(990 + 270)  # 270 ms is the first frame edge >= 250 ms
    assert started.seconds == pytest.approx(1.26)


def test_scattered_noise_frames_never_add_up_to_a_turn() -> None:
    ep = Endpointer(Thresholds(speech_seconds=0.25))
    # One voiced frame in three for a minute: 20 s of "voice" in all, never 250 ms in 0.5 s.
    events = run(ep, *[seg for _ in range(667) for seg in ((SPEECH, 30), (QUIET, 60))])
    assert events == []


def test_speech_with_gaps_between_syllables_still_starts() -> None:
    ep = Endpointer(Thresholds(speech_seconds=0.25))
    events = run(ep, (QUIET, 990), *[seg for _ in range(5) for seg in ((SPEECH, 90),
                                                                      (QUIET, 60))])
    assert types(events) == ["speech_started"]
    assert events[0].speech_sample == ms(990)


def test_pre_roll_reaches_back_before_the_first_voiced_frame() -> None:
    ep = Endpointer(Thresholds(pre_roll_seconds=0.3))
    events = run(ep, (QUIET, 1980), (SPEECH, 990), (QUIET, 990))
    started, ended = events[0], events[-1]
    assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
    assert started.start_sample == ms(1980 - 300)
    assert ended.start_sample == started.start_sample
    assert ended.speech_end_sample == ms(1980 + 990)


def test_pre_roll_stops_at_the_stream_start() -> None:
    ep = Endpointer(Thresholds(pre_roll_seconds=0.3))
    started = run(ep, (QUIET, 120), (SPEECH, 510))[0]
    assert isinstance(started, SpeechStarted)
    assert started.speech_sample == ms(120) and started.start_sample == 0


@pytest.mark.parametrize("preset", ["relaxed", "default", "aggressive"])
def test_each_preset_ends_after_its_silence(preset: str) -> None:
    thresholds = Thresholds.from_settings(ListenSettings(endpoint=preset))
    assert thresholds.silence_seconds == PRESET_SILENCE_SECONDS[preset]
    ep = Endpointer(thresholds)
    ended = run(ep, (QUIET, 990), (SPEECH, 1500), (QUIET, 3000))[-1]
    assert isinstance(ended, SpeechEnded) and ended.reason == "silence"
    assert ended.speech_end_sample == ms(990 + 1500)
    assert ended.sample - ended.speech_end_sample == frame_ceil(thresholds.silence_seconds)
    assert ended.end_sample == ended.sample


def test_presets_are_ordered_and_snappy() -> None:
    relaxed, default, aggressive = (PRESET_SILENCE_SECONDS[p]
                                    for p in ("relaxed", "default", "aggressive"))
    assert relaxed > default > aggressive
    assert default < 0.7  # quicker than Home Assistant's default


@pytest.mark.parametrize("preset", ["relaxed", "default", "aggressive"])
def test_a_pause_just_under_the_silence_does_not_end_the_turn(preset: str) -> None:
    thresholds = Thresholds.from_settings(ListenSettings(endpoint=preset))
    ep = Endpointer(thresholds)
    pause = frame_ceil(thresholds.silence_seconds) * 1000 // SR - 30
    events = run(ep, (SPEECH, 990), (QUIET, pause), (SPEECH, 990), (QUIET, 2010))
    assert types(events).count("speech_ended") == 1


def test_silence_seconds_overrides_the_preset() -> None:
    thresholds = Thresholds.from_settings(
        ListenSettings(endpoint="aggressive", silence_seconds=0.9))
    assert thresholds.silence_seconds == 0.9
    ended = run(Endpointer(thresholds), (SPEECH, 990), (QUIET, 2010))[-1]
    assert isinstance(ended, SpeechEnded)
    assert ended.sample - ended.speech_end_sample == frame_ceil(0.9)


def test_max_length_cuts_the_turn_and_the_rest_becomes_the_next_turn() -> None:
    ep = Endpointer(Thresholds(max_seconds=5.0, pre_roll_seconds=0.3))
    events = run(ep, (QUIET, 990), (SPEECH, 8010), (QUIET, 2010))
    assert types(events) == ["speech_started", "speech_ended", "speech_started",
                             "speech_paused", "speech_ended"]
    first_start, cut, second_start, _, second_end = events
    assert isinstance(cut, SpeechEnded) and cut.reason == "max_length"
    assert cut.start_sample == first_start.start_sample == ms(990 - 300)
    assert cut.end_sample == cut.start_sample + ms(5010)  # first frame edge at >= 5 s
    # The next turn picks up exactly where the cut fell: no sample lost, none repeated.
    assert isinstance(second_start, SpeechStarted)
    assert second_start.start_sample == cut.end_sample
    assert isinstance(second_end, SpeechEnded) and second_end.reason == "silence"
    assert second_end.speech_end_sample == ms(990 + 8010)


def test_pause_then_resume_reports_both_and_one_turn() -> None:
    ep = Endpointer(Thresholds(speculate_seconds=0.15, silence_seconds=0.6))
    events = run(ep, (QUIET, 990), (SPEECH, 990), (QUIET, 300), (SPEECH, 990), (QUIET, 990))
    assert types(events) == ["speech_started", "speech_paused", "speech_resumed",
                             "speech_paused", "speech_ended"]
    _, paused, resumed, _, ended = events
    assert isinstance(paused, SpeechPaused) and isinstance(resumed, SpeechResumed)
    assert paused.speech_end_sample == ms(1980)
    assert paused.sample == ms(1980 + 150)
    assert resumed.speech_sample == ms(1980 + 300)
    # Resumption is confirmed after resume_seconds (60 ms) of voice.
    assert resumed.sample == ms(1980 + 300 + 60)
    assert isinstance(ended, SpeechEnded) and ended.reason == "silence"
    assert ended.speech_end_sample == ms(1980 + 300 + 990)


def test_a_lone_voiced_frame_in_a_pause_neither_resumes_nor_delays_the_end() -> None:
    ep = Endpointer(Thresholds(speculate_seconds=0.15, silence_seconds=0.6))
    events = run(ep, (SPEECH, 990), (QUIET, 300), (SPEECH, 30), (QUIET, 990))
    assert types(events) == ["speech_started", "speech_paused", "speech_ended"]
    ended = events[-1]
    assert isinstance(ended, SpeechEnded)
    assert ended.speech_end_sample == ms(990)
    assert ended.sample == ms(990 + 600)


@pytest.mark.parametrize("speculate", [0.0, 0.6, 1.0])
def test_no_pause_events_when_speculation_is_off_or_not_before_the_end(speculate: float) -> None:
    ep = Endpointer(Thresholds(speculate_seconds=speculate, silence_seconds=0.6))
    events = run(ep, (SPEECH, 990), (QUIET, 300), (SPEECH, 990), (QUIET, 990))
    assert types(events) == ["speech_started", "speech_ended"]


def test_two_utterances_in_one_stream() -> None:
    ep = Endpointer()
    events = run(ep, (QUIET, 510), (SPEECH, 1200), (QUIET, 1500), (SPEECH, 900), (QUIET, 1500))
    ends = [e for e in events if isinstance(e, SpeechEnded)]
    starts = [e for e in events if isinstance(e, SpeechStarted)]
    assert len(ends) == len(starts) == 2
    assert ends[0].speech_end_sample == ms(1710)
    assert starts[1].speech_sample == ms(3210)
    assert starts[1].start_sample == ms(3210 - 300)
    assert starts[1].start_sample >= ends[0].end_sample
    assert ends[1].speech_end_sample == ms(4110)


def test_pre_roll_never_reaches_into_the_previous_turn() -> None:
    ep = Endpointer(Thresholds(pre_roll_seconds=1.0, silence_seconds=0.3, speculate_seconds=0))
    events = run(ep, (SPEECH, 990), (QUIET, 600), (SPEECH, 990))
    assert types(events) == ["speech_started", "speech_ended", "speech_started"]
    first_end, second_start = events[1], events[2]
    assert isinstance(first_end, SpeechEnded) and isinstance(second_start, SpeechStarted)
    assert first_end.end_sample == ms(990 + 300)
    assert second_start.start_sample == first_end.end_sample


def test_finish_closes_an_open_turn_and_is_quiet_otherwise() -> None:
    ep = Endpointer()
    assert ep.finish() == []
    run(ep, (QUIET, 510), (SPEECH, 990))
    (ended,) = ep.finish()
    assert isinstance(ended, SpeechEnded) and ended.reason == "stream_end"
    assert ended.end_sample == ep.position == ms(1500)
    assert not ep.in_speech and ep.finish() == []


def test_reset_forgets_the_turn_and_can_move_the_stream_position() -> None:
    ep = Endpointer(Thresholds(pre_roll_seconds=0.3))
    run(ep, (QUIET, 510), (SPEECH, 990))
    assert ep.in_speech
    ep.reset(at_sample=100_000)
    assert not ep.in_speech and ep.position == 100_000
    assert run(ep, (QUIET, 990)) == []
    # Half an onset before a reset does not count towards one after it.
    run(ep, (SPEECH, 150))
    ep.reset()
    assert run(ep, (SPEECH, 150), (QUIET, 990)) == []
    started = run(ep, (SPEECH, 300))[0]
    assert isinstance(started, SpeechStarted)
    assert started.speech_sample == 100_000 + ms(990 + 150 + 150 + 990)


def test_reset_position_is_a_pre_roll_floor() -> None:
    ep = Endpointer(Thresholds(pre_roll_seconds=0.3))
    ep.reset(at_sample=50_000)
    started = run(ep, (SPEECH, 300))[0]
    assert isinstance(started, SpeechStarted) and started.start_sample == 50_000


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_decisions_do_not_depend_on_the_frame_length(frame_ms: int) -> None:
    frame = SR * frame_ms // 1000
    ep = Endpointer(Thresholds(speech_seconds=0.24, silence_seconds=0.6, speculate_seconds=0.12))
    events: list[TurnEvent] = []
    for is_speech, length_ms in ((QUIET, 600), (SPEECH, 1200), (QUIET, 240), (SPEECH, 600),
                                 (QUIET, 1200)):
        for _ in range(length_ms // frame_ms):
            events.extend(ep.process(frame, is_speech))
    ended = events[-1]
    assert types(events) == ["speech_started", "speech_paused", "speech_resumed",
                             "speech_paused", "speech_ended"]
    assert isinstance(ended, SpeechEnded)
    assert ended.start_sample == ms(300)
    assert ended.speech_end_sample == ms(2640)
    assert ended.end_sample == ms(3240)


def test_events_are_frozen_tagged_and_carry_no_audio_from_the_bare_endpointer() -> None:
    ended = run(Endpointer(), (SPEECH, 990), (QUIET, 990))[-1]
    assert isinstance(ended, SpeechEnded)
    assert ended.type == "speech_ended" and ended.pcm.size == 0
    with pytest.raises(AttributeError):
        ended.sample = 0  # type: ignore[misc]
    assert ended.duration_seconds == pytest.approx((ended.end_sample - ended.start_sample) / SR)


@pytest.mark.parametrize("bad", [dict(silence_seconds=0), dict(speech_seconds=-1),
                                 dict(speech_seconds=0.5, onset_window_seconds=0.4),
                                 dict(pre_roll_seconds=-0.1)])
def test_thresholds_refuse_nonsense(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Thresholds(**bad)


def test_a_frame_must_have_samples() -> None:
    with pytest.raises(ValueError):
        Endpointer().process(0, True)
