"""The echo canceller on a real echo path: the virtual speaker's monitor looped back into the
virtual microphone with a delay and attenuation (scripts/virtual-audio.sh echo), as a room
would. koe's voice (Piper) is removed, a user talking over it is kept, and `koe doctor
--echo` finds the loopback's delay."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import numpy as np
import pytest

from koe.config.schema import AudioSettings
from koe.voice.audio.devices import find_device
from koe.voice.audio.echo.canceller import open_canceller
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.measure import echo_delay, ratio_db
from koe.voice.audio.echo.probe import probe_devices
from koe.voice.audio.microphone import Microphone
from koe.voice.audio.speaker import Speaker
from koe.voice.audio.virtual import VirtualAudio, echo_path, inject
from tests.voice.audio.echo_signals import (
    INTERRUPTION,
    RATE,
    REPLY,
    barge_in_at,
    frames,
    spoken,
    spoken_16k,
    voiced,
)
from tests.voice.audio.instruments import align

pytestmark = pytest.mark.slow
DELAY_MS, GAIN = 100, 0.5
SETTLE = RATE  # the first second of echo: the canceller is learning the room
# The echo comes this much later than the loopback's own delay: the microphone's buffering
# (the far end is placed by when chunks reach the loop) and the loopback's resampling.
# Measured here: 32-46 ms.
EXTRA_MS = (-20, 90)


async def _take(engine: str, user: np.ndarray | None = None, user_after: float = 0.0,
                env: dict[str, str] | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Play the reply on the virtual speaker and hear it back through the canceller, live;
    `user` (16 kHz) is said into the microphone `user_after` seconds into the reply.
    Returns (microphone, cleaned, what the canceller was given as played, what barge-in
    hears: the cleaned audio, silent where the canceller marked it its own echo), aligned."""
    far = FarEnd()
    canceller = open_canceller(far, engine)
    pcm, rate = spoken(REPLY)
    heard, cleaned, played, barge_in_hears = [], [], [], []
    speaker = Speaker(find_device("vspk", "output"), far=far)
    microphone = Microphone(find_device("vmic", "input"))
    started: int | None = None
    stop: int | None = None
    said: asyncio.Task | None = None
    async with speaker, microphone:
        reply: asyncio.Future | None = None
        async for chunk in microphone.chunks():
            speaker.sync(chunk.end)
            heard.append(chunk.pcm)
            played.append(far.read_int16(chunk.position, len(chunk.pcm)))
            out = canceller.near(chunk)
            cleaned.append(out.pcm)
            barge_in_hears.append(np.zeros_like(out.pcm) if out.echo else out.pcm)
            if reply is None and chunk.end >= RATE // 2:
                reply, started = speaker.play(pcm, rate), chunk.end
            due = started is not None and chunk.end >= started + user_after * RATE
            if user is not None and due:
                said = asyncio.create_task(inject("vmic_feed", user, env or {}))
                user = None
            if stop is None and reply is not None and reply.done():
                stop = chunk.end + RATE
            if stop is not None and chunk.end >= stop:
                break
    if said is not None:
        await said
    return (np.concatenate(heard), np.concatenate(cleaned), np.concatenate(played),
            np.concatenate(barge_in_hears))


def _echo_span(heard: np.ndarray, played: np.ndarray) -> tuple[int, int]:
    """Where the reply's echo is in the recording."""
    sounding = np.flatnonzero(played)
    lag = echo_delay(heard, played).samples
    return int(sounding[0]) + lag, int(sounding[-1]) + 1 + lag


@pytest.mark.parametrize("engine", ["livekit", "webrtc-audio"])
def test_koes_voice_is_removed_from_the_microphone(virtual_audio: VirtualAudio,
                                                    engine: str) -> None:
    with echo_path(virtual_audio, DELAY_MS, GAIN):
        heard, cleaned, played, _ = asyncio.run(_take(engine))
    start, end = _echo_span(heard, played)
    echo = slice(start + SETTLE, end)
    assert ratio_db(heard[echo], cleaned[echo]) >= 20.0
    span = frames(start, end)
    assert voiced(heard)[span].mean() > 0.6
    assert voiced(cleaned)[span].mean() < 0.03


def test_a_user_talking_over_koe_is_still_heard(virtual_audio: VirtualAudio) -> None:
    user = (0.7 * spoken_16k(INTERRUPTION).astype(np.float64)).astype(np.int16)
    with echo_path(virtual_audio, DELAY_MS, GAIN):
        heard, cleaned, played, barge_in_hears = asyncio.run(
            _take("livekit", user, user_after=2.5, env=virtual_audio.client_env()))
    at, similarity = align(heard, user)
    assert similarity > 0.5  # the user is in the recording, over the echo
    at = at // 480 * 480  # (to the VAD's frames; a few ms either way)
    alone = voiced(user)
    span = frames(at, at + len(user))
    user_frames = alone[: span.stop - span.start]
    kept = voiced(cleaned)[span][user_frames].mean()
    # Turned down while both speak (double talk): 0.61-0.71 of the user's frames stayed
    # voiced here (all of them in the raw recording). Most must remain.
    assert user_frames.sum() > 20 and kept > 0.5, kept
    # Before the user spoke, what barge-in hears is quiet: AEC3 lets a burst of echo through
    # now and then (5-8 % of these frames voiced in some takes), the leak check marks it.
    start, _ = _echo_span(heard, played)
    assert voiced(barge_in_hears)[frames(start + SETTLE, at)].mean() < 0.03
    # and the barge-in rule, hearing it from koe's first word, decides on the user's words,
    # soon after they begin (its own 120 ms, and AEC3 turning their first syllable down).
    onset = at + int(np.argmax(alone)) * 480
    decided = barge_in_at(barge_in_hears[start:])
    assert decided is not None
    assert onset <= decided + start <= onset + 0.3 * RATE, (decided + start - onset) / RATE


def test_the_probe_finds_the_loopbacks_delay(virtual_audio: VirtualAudio) -> None:
    settings = AudioSettings(input_device="vmic", output_device="vspk")
    with echo_path(virtual_audio, 250, 0.25):
        report = asyncio.run(probe_devices(settings))
    figures = report.figures
    assert figures.delay_ms is not None
    assert 250 + EXTRA_MS[0] <= figures.delay_ms <= 250 + EXTRA_MS[1]
    assert figures.return_loss_db == pytest.approx(-20 * np.log10(0.25), abs=1.5)
    assert figures.erle_db is not None and figures.erle_db >= 20.0


def test_koe_doctor_echo_reports_the_path(virtual_audio: VirtualAudio) -> None:
    env = {**virtual_audio.client_env(), "KOE_AUDIO_INPUT_DEVICE": "vmic",
           "KOE_AUDIO_OUTPUT_DEVICE": "vspk"}
    with echo_path(virtual_audio, DELAY_MS, GAIN):
        done = subprocess.run([sys.executable, "-m", "koe.voice", "doctor", "--echo", "--json"],
                              env=env, capture_output=True, text=True, timeout=120)
        said = subprocess.run([sys.executable, "-m", "koe.voice", "doctor", "--echo"],
                              env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert DELAY_MS + EXTRA_MS[0] <= figures["delay_ms"] <= DELAY_MS + EXTRA_MS[1]
    assert figures["return_loss_db"] == pytest.approx(-20 * np.log10(GAIN), abs=1.5)
    assert said.returncode == 0, said.stderr
    assert "ms after playback" in said.stdout and "(ERLE)" in said.stdout


def test_without_an_echo_path_the_probe_hears_none(virtual_audio: VirtualAudio) -> None:
    report = asyncio.run(probe_devices(AudioSettings(input_device="vmic",
                                                     output_device="vspk")))
    assert report.figures.delay_ms is None
    assert "no echo" in report.describe()
