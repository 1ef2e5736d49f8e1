"""File mode's echo: what the file speaker plays comes back into the file microphone, DELAY_MS
later and GAIN times as loud; `--echo DELAY_MS,GAIN` is checked in one line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from koe.config.errors import AudioError
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.room import EchoRoom, parse_echo
from koe.voice.audio.filemode import FileMicrophone, FileSpeaker
from koe.voice.audio.wav import write_wav
from tests.voice.audio.instruments import RATE, align, chirp, pcm16


@pytest.mark.parametrize(("text", "expected"), [
    ("120,0.4", (120.0, 0.4)), (" 0 , 1 ", (0.0, 1.0)), ("1000,4", (1000.0, 4.0)),
    ("37.5,.25", (37.5, 0.25)),
])
def test_parses_delay_and_gain(text: str, expected: tuple[float, float]) -> None:
    assert parse_echo(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("", "not DELAY_MS,GAIN"), ("120", "not DELAY_MS,GAIN"), ("1,2,3", "not DELAY_MS,GAIN"),
    ("120,", "not DELAY_MS,GAIN"), ("abc,0.5", "not numbers"), ("120,half", "not numbers"),
    ("-5,0.5", "delay -5 ms is outside"), ("1001,0.5", "delay 1001 ms is outside"),
    ("nan,0.5", "delay nan ms"), ("inf,0.5", "delay inf ms"), ("120,0", "gain 0 is outside"),
    ("120,-1", "gain -1 is outside"), ("120,5", "gain 5 is outside"), ("120,nan", "gain nan"),
])
def test_refuses_bad_values_in_one_line(text: str, says: str) -> None:
    with pytest.raises(AudioError) as caught:
        parse_echo(text)
    assert says in caught.value.message
    assert "\n" not in caught.value.message and "DELAY_MS,GAIN" in caught.value.hint


def test_a_room_refuses_what_the_parser_would() -> None:
    with pytest.raises(AudioError):
        EchoRoom(FarEnd(), 2000, 0.5)


def test_the_file_microphone_hears_the_file_speaker(tmp_path: Path) -> None:
    """A chirp played 0.3 s into the input comes back in it 120 ms later at 0.4 times its
    level; stop() after 0.48 s ends the echo where the playing was cut."""
    silence = write_wav(tmp_path / "in.wav", np.zeros(round(1.6 * RATE), dtype=np.int16), RATE)
    played = pcm16(chirp(300.0, 3000.0, 0.6, 22050, amplitude=0.5))
    far = FarEnd()

    async def run() -> tuple[np.ndarray, int]:
        heard, cut = [], []
        mic = FileMicrophone(silence, room=EchoRoom(far, 120, 0.4))
        async with mic, FileSpeaker(tmp_path / "out.wav", far=far) as speaker:
            async for chunk in mic.chunks():
                speaker.sync(chunk.end)
                heard.append(chunk.pcm)
                if chunk.end == 4800:  # 0.3 s in
                    speaker.play(played, 22050)
                if chunk.end == 4800 + 7680:  # 0.48 s later: stop
                    cut = await speaker.stop()
        return np.concatenate(heard), cut[0].played

    heard, played_samples = asyncio.run(run())
    reference = pcm16(chirp(300.0, 3000.0, 0.6, RATE, amplitude=0.5))[:7680]
    lag, similarity = align(heard, reference)
    # The sound starts where the input was when it was played (within a chunk's scheduling).
    assert abs(lag - (4800 + round(0.12 * RATE))) <= 16
    assert similarity > 0.99
    echo = heard[lag : lag + 7680].astype(float)
    assert np.sqrt(np.mean(echo**2)) == pytest.approx(
        0.4 * np.sqrt(np.mean(reference.astype(float) ** 2)), rel=0.03)
    # Stopped: the echo ends where the speaker says the playing did.
    echo_end = lag + round(played_samples * RATE / 22050)
    assert abs(int(np.flatnonzero(heard)[-1]) + 1 - echo_end) <= 2
