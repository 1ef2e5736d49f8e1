"""File mode: a file as the microphone, a WAV file as the speaker, on one sample timeline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from koe.config.errors import AudioError
from koe.voice.audio.chunks import FRAME_SAMPLES, AudioChunk, Played
from koe.voice.audio.filemode import FileMicrophone, FileSpeaker
from koe.voice.audio.wav import read_wav, write_wav
from tests.audio_files import write_audio
from tests.voice.audio.instruments import RATE, align, chirp, dominant_frequency, loud, pcm16, tone


def _listen(mic: FileMicrophone) -> tuple[list[AudioChunk], list[float], float]:
    """Every chunk, the loop time each arrived at, and the loop time the mic started."""

    async def go() -> tuple[list[AudioChunk], list[float], float]:
        loop = asyncio.get_running_loop()
        got, times = [], []
        async with mic:
            async for chunk in mic.chunks():
                got.append(chunk)
                times.append(loop.time())
        return got, times, mic.started_at

    return asyncio.run(go())


def test_file_microphone_yields_the_whole_file_at_its_positions(tmp_path: Path) -> None:
    samples = pcm16(chirp(200.0, 2000.0, 1.01, RATE))  # 1.01 s: the last chunk is short
    path = write_wav(tmp_path / "in.wav", samples, RATE)
    chunks, times, started = _listen(FileMicrophone(path, tail_seconds=0.1))
    assert [c.position for c in chunks] == list(range(0, len(samples) + 1600, FRAME_SAMPLES))
    assert all(len(c.pcm) == FRAME_SAMPLES for c in chunks[:-1])
    heard = np.concatenate([c.pcm for c in chunks])
    assert len(heard) == len(samples) + 1600
    assert np.abs(heard[: len(samples)].astype(int) - samples).max() <= 1
    assert not heard[len(samples) :].any()  # the tail is silence
    # Paced like a live microphone: a chunk is handed over once its last sample is "recorded".
    assert all(t >= started + c.end / RATE - 0.002 for c, t in zip(chunks, times, strict=True))


def test_file_microphone_takes_any_format(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "in.flac", tone(700.0, 0.5, 44100), 44100, channels=2)
    chunks, _, _ = _listen(FileMicrophone(path, realtime=False))
    heard = np.concatenate([c.pcm for c in chunks])
    assert abs(len(heard) - RATE // 2) < 50
    assert dominant_frequency(heard, RATE) == pytest.approx(700.0, abs=3)


def test_file_microphone_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        asyncio.run(FileMicrophone(tmp_path / "nope.wav").start())


def test_file_speaker_places_audio_at_the_positions_it_is_told(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    first = pcm16(tone(440.0, 0.25, 22050))
    second = pcm16(tone(1000.0, 0.25, 24000))

    async def speak() -> list[Played]:
        async with FileSpeaker(path, sample_rate=24000) as speaker:
            speaker.sync(16000)  # 1.0 s into the input
            a = await speaker.play(first, 22050, tag="a")
            speaker.sync(40000)  # 2.5 s
            b = await speaker.play(second, 24000, tag="b")
            speaker.sync(56000)  # 3.5 s: the input ends here
            return [a, b]

    reports = asyncio.run(speak())
    assert reports == [Played("a", len(first), len(first), 22050),
                       Played("b", len(second), len(second), 24000)]
    out, rate = read_wav(path)
    assert rate == 24000 and len(out) == 3.5 * rate
    sound = loud(out, rate, window=0.001).astype(int)  # 1 ms windows
    starts = np.flatnonzero(np.diff(sound) == 1) + 1
    ends = np.flatnonzero(np.diff(sound) == -1) + 1
    # At 1.0 s and 2.5 s, give or take the loop's own delay between sync() and play().
    assert len(starts) == len(ends) == 2
    assert 0 <= starts[0] - 1000 <= 3 and 0 <= starts[1] - 2500 <= 3
    assert list(ends - starts) == pytest.approx([250, 250], abs=1)
    assert dominant_frequency(out[24000 : 24000 + 6000], rate) == pytest.approx(440, abs=5)
    assert dominant_frequency(out[60000 : 60000 + 6000], rate) == pytest.approx(1000, abs=5)


def test_file_speaker_joins_back_to_back_chunks_without_a_click(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    signal = tone(300.0, 0.3, 22050)
    pieces = np.array_split(pcm16(signal), 5)

    async def speak() -> None:
        async with FileSpeaker(path) as speaker:
            speaker.sync(800)
            for piece in pieces:
                speaker.play(piece, 22050)
            await speaker.drained()

    asyncio.run(speak())
    out, rate = read_wav(path)
    assert rate == RATE
    expected = pcm16(tone(300.0, 0.3, RATE))
    # Where the input was when play() ran: 800, give or take the loop's own delay.
    lag, _ = align(out, expected)
    assert 800 <= lag < 800 + 160
    placed = out[lag : lag + len(expected)].astype(int)
    edge = 320  # the resampling filter rings at the very start and end
    assert np.abs(placed - expected)[edge:-edge].max() < 40  # ~ -58 dB: no click anywhere


def test_file_speaker_stop_keeps_only_what_was_heard(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    long_tone = pcm16(tone(500.0, 2.0, RATE))

    async def speak() -> tuple[Played, list[Played], Played]:
        async with FileSpeaker(path) as speaker:
            speaker.sync(0)
            cut_short = speaker.play(long_tone, RATE, tag="long")
            never = speaker.play(long_tone, RATE, tag="next")
            await asyncio.sleep(0.3)
            cut = await speaker.stop()
            assert not speaker.playing
            return cut_short.result(), cut, never.result()

    report, cut, never = asyncio.run(speak())
    assert 0 < report.played < report.samples
    assert never.played == 0
    assert cut == [report, never]
    out, _ = read_wav(path)
    # Placed where the input was when play() ran: at 0, give or take the loop's own delay.
    start = np.flatnonzero(np.abs(out) > 1000)[0]
    assert start < 160
    sound = out[start:]
    assert len(sound) == pytest.approx(report.played, abs=3)  # what was heard, then the end
    assert np.abs(sound[-50:]).max() > 1000
