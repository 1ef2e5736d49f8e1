"""The device microphone, through the virtual microphone: what goes in comes out at 16 kHz."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from koe.config.errors import AudioError
from koe.config.schema import AudioSettings
from koe.voice.audio.chunks import FRAME_SAMPLES, AudioChunk
from koe.voice.audio.devices import find_device
from koe.voice.audio.microphone import Microphone
from koe.voice.audio.speaker import Speaker
from koe.voice.audio.virtual import VirtualAudio, inject
from tests.voice.audio.instruments import RATE, align, chirp, pcm16, start_virtual_audio, tone

AFTER_SECONDS = 1.0  # listen this long past the injected sound's length


async def _hear(mic: Microphone, signal: np.ndarray, env: dict[str, str]) -> list[AudioChunk]:
    """Inject `signal` into the virtual microphone once the mic runs; the chunks it yields."""
    got: list[AudioChunk] = []
    until: int | None = None
    async for chunk in mic.chunks():
        got.append(chunk)
        if until is None:
            await inject("vmic_feed", signal, env)
            until = chunk.end + len(signal) + round(AFTER_SECONDS * RATE)
        elif chunk.end >= until:
            break
    return got


@pytest.mark.parametrize("setting", ["vmic", ""])  # by name, and the system default
def test_microphone_hears_the_virtual_microphone(virtual_audio: VirtualAudio,
                                                 setting: str) -> None:
    signal = pcm16(chirp(200.0, 3000.0, 1.5, RATE))

    async def listen() -> tuple[list[AudioChunk], int]:
        async with Microphone.from_settings(AudioSettings(input_device=setting)) as mic:
            assert mic.device.name == ("vmic" if setting else "default")
            return await _hear(mic, signal, virtual_audio.client_env()), mic.overflows

    chunks, overflows = asyncio.run(listen())
    assert all(len(c.pcm) == FRAME_SAMPLES and c.pcm.dtype == np.int16 for c in chunks)
    assert [c.position for c in chunks] == [i * FRAME_SAMPLES for i in range(len(chunks))]
    heard = np.concatenate([c.pcm for c in chunks])
    lag, similarity = align(heard, signal)
    assert similarity > 0.99, f"similarity {similarity:.3f}, {overflows} overflows"
    assert np.abs(heard[:lag]).max(initial=0) < 200  # silence before it: nothing invented


def test_a_microphone_that_disappears_is_a_clear_error(virtual_audio: VirtualAudio,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A second sound server, stopped mid-stream: its devices vanish like an unplugged headset."""

    async def use_then_lose(other: VirtualAudio) -> tuple[str, str, int]:
        monkeypatch.setenv("PULSE_SERVER", other.env["PULSE_SERVER"])
        mic = Microphone(find_device("pulse", "input"))
        speaker = Speaker(find_device("pulse", "output"))
        await mic.start()
        await speaker.start()
        monkeypatch.setenv("PULSE_SERVER", virtual_audio.env["PULSE_SERVER"])
        chunks = mic.chunks()
        await anext(chunks)  # it works
        played = speaker.play(pcm16(tone(440.0, 5.0, 22050)), 22050)
        await anext(chunks)
        other.stop()
        with pytest.raises(AudioError) as mic_error:
            async for _ in chunks:
                pass
        with pytest.raises(AudioError) as speaker_error:
            await speaker.drained()
        report = await played
        await mic.close()
        await speaker.close()
        return str(mic_error.value), str(speaker_error.value), report.played

    with start_virtual_audio(tmp_path / "pa") as other:
        mic_error, speaker_error, played = asyncio.run(use_then_lose(other))
    assert mic_error.startswith("microphone ") and "was it disconnected?" in mic_error
    assert speaker_error.startswith("speaker ") and "was it disconnected?" in speaker_error
    assert "\n" not in mic_error + speaker_error
    assert played < 5 * 22050


def test_a_frozen_device_is_a_clear_error(virtual_audio: VirtualAudio, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A sound server that stops answering (SIGSTOP): no audio comes, none is taken."""

    async def freeze(other: VirtualAudio) -> tuple[str, str]:
        monkeypatch.setenv("PULSE_SERVER", other.env["PULSE_SERVER"])
        mic = Microphone(find_device("pulse", "input"), stall_seconds=1.0)
        speaker = Speaker(find_device("pulse", "output"), stall_seconds=1.0)
        await mic.start()
        await speaker.start()
        monkeypatch.setenv("PULSE_SERVER", virtual_audio.env["PULSE_SERVER"])
        chunks = mic.chunks()
        await anext(chunks)
        speaker.play(pcm16(tone(440.0, 5.0, 16000)), 16000)
        server = int((other.root / "run" / "pulse" / "pid").read_text())
        os.kill(server, signal.SIGSTOP)
        try:
            with pytest.raises(AudioError) as mic_error:
                async for _ in chunks:
                    pass
            with pytest.raises(AudioError) as speaker_error:
                await speaker.drained()
        finally:
            os.kill(server, signal.SIGCONT)
        await mic.close()
        await speaker.close()
        return str(mic_error.value), str(speaker_error.value)

    with start_virtual_audio(tmp_path / "pa") as other:
        mic_error, speaker_error = asyncio.run(freeze(other))
    assert mic_error.startswith("microphone ") and "gave no sound for 1 s" in mic_error
    assert speaker_error.startswith("speaker ") and "took no sound for 1 s" in speaker_error
