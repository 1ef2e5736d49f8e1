"""The device speaker, recorded on the virtual speaker's monitor: what it plays, and stop()."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest

from koe.voice.audio.chunks import Played
from koe.voice.audio.devices import find_device
from koe.voice.audio.resample import resample
from koe.voice.audio.speaker import Speaker
from koe.voice.audio.virtual import Recorder, VirtualAudio
from tests.voice.audio.instruments import RATE, align, chirp, dominant_frequency, loud, pcm16, tone

MONITOR = "vspk.monitor"
TOLERANCE_SECONDS = 0.03  # recorded sound vs reported count: PulseAudio moves 10 ms blocks


def _speaker() -> Speaker:
    return Speaker(find_device("vspk", "output"))


@pytest.mark.parametrize("rate", [22050, 24000, 48000])
def test_plays_what_it_is_given(virtual_audio: VirtualAudio, rate: int) -> None:
    """A chirp queued in uneven pieces comes out whole, as one sound, at the device's rate."""
    signal = chirp(200.0, 1500.0, 1.2, rate)
    cuts = [0, rate // 3, rate // 3 + 1234, 2 * rate // 3, len(signal)]
    pieces = [pcm16(signal[a:b]) for a, b in itertools.pairwise(cuts)]

    async def play() -> list[Played]:
        async with _speaker() as speaker:
            futures = [speaker.play(p, rate, tag=i) for i, p in enumerate(pieces)]
            assert speaker.playing
            await speaker.drained()
            assert not speaker.playing
            return [f.result() for f in futures]

    with Recorder(MONITOR, virtual_audio.client_env()) as recorder:
        reports = asyncio.run(play())
    assert [r.tag for r in reports] == list(range(len(pieces)))
    assert all(r.complete and r.played == len(p) and r.sample_rate == rate
               for r, p in zip(reports, pieces, strict=True))
    reference = resample(signal, rate, RATE)
    lag, similarity = align(recorder.samples(), reference)
    assert similarity > 0.95, (lag, similarity, len(recorder.samples()))


def test_stop_cuts_playback_and_says_how_much_was_heard(virtual_audio: VirtualAudio) -> None:
    rate = 22050
    tones = [pcm16(tone(freq, 0.5, rate)) for freq in (440.0, 660.0, 880.0, 1100.0)]

    async def play_then_stop() -> tuple[list[Played], list[Played]]:
        async with _speaker() as speaker:
            futures = [speaker.play(t, rate, tag=i) for i, t in enumerate(tones)]
            await futures[0]  # the first tone has been heard whole
            await asyncio.sleep(0.2)  # into the second one
            cut = await speaker.stop()
            assert not speaker.playing
            await speaker.drained()  # nothing left: returns at once
            await asyncio.sleep(0.5)  # the recording goes on, to show silence after stop
            return [f.result() for f in futures], cut

    with Recorder(MONITOR, virtual_audio.client_env()) as recorder:
        reports, cut = asyncio.run(play_then_stop())
    played = sum(r.played for r in reports)
    assert reports[0].complete
    assert 0 < played < sum(len(t) for t in tones)
    assert cut == [r for r in reports if not r.complete]
    assert reports[-1].played == 0
    # Each tone played in full before the cut one, none after it.
    first_cut = next(i for i, r in enumerate(reports) if not r.complete)
    assert all(r.complete for r in reports[:first_cut])
    assert all(r.played == 0 for r in reports[first_cut + 1 :])

    # The recording agrees: as much sound as reported, then silence.
    window = 0.005
    sound = loud(recorder.samples(), window=window)
    onset, last = np.flatnonzero(sound)[[0, -1]]
    heard_seconds = (last + 1 - onset) * window
    assert heard_seconds == pytest.approx(played / rate, abs=TOLERANCE_SECONDS)
    assert not sound[last + 1 :].any()
    assert len(sound) - last > 0.3 / window  # and the recording went on well past it


def test_plays_again_after_stop(virtual_audio: VirtualAudio) -> None:
    rate = 24000

    async def play() -> Played:
        async with _speaker() as speaker:
            speaker.play(pcm16(tone(500.0, 2.0, rate)), rate)
            await asyncio.sleep(0.1)
            await speaker.stop()
            again = speaker.play(pcm16(tone(1500.0, 0.6, rate)), rate, tag="again")
            await speaker.drained()
            return again.result()

    with Recorder(MONITOR, virtual_audio.client_env()) as recorder:
        again = asyncio.run(play())
    assert again.complete and again.tag == "again"
    recorded = recorder.samples()
    end = np.flatnonzero(loud(recorded, window=0.005))[-1] * 80
    assert dominant_frequency(recorded[end - 4800 : end], RATE) == pytest.approx(1500, abs=10)


def test_empty_audio_is_played_at_once(virtual_audio: VirtualAudio) -> None:
    async def play() -> Played:
        async with _speaker() as speaker:
            report = await speaker.play(np.zeros(0, dtype=np.int16), 16000, tag="nothing")
            assert not speaker.playing
            return report

    assert asyncio.run(play()) == Played("nothing", 0, 0, 16000)
