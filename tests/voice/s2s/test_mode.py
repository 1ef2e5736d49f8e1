"""Choosing the mode at start, and every way an endpoint fails to be one said in one line;
fakes of the hosted APIs over real sockets, no models."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from koe.config.schema import S2sSettings
from koe.voice.audio.wav import write_wav
from koe.voice.s2s.errors import S2sKeyRefused, S2sUnreachable, S2sWrongProtocol
from koe.voice.s2s.mode import Choice, choose_mode
from tests.net import port_of, refusing_port
from tests.voice.s2s.fake_audio_chat import FakeAudioChat
from tests.voice.s2s.fake_realtime import FakeRealtime, Reply

SILENT = Reply("Hello.", np.zeros(2400, dtype=np.int16))


def settings(port: int, mode: str = "auto", **more: object) -> S2sSettings:
    return S2sSettings(mode=mode, url=f"http://127.0.0.1:{port}/v1", model="m",
                       probe_timeout=3.0, connect_timeout=3.0, **more)


def test_auto_falls_back_to_the_cascade_when_nothing_listens() -> None:
    with refusing_port() as sock:
        choice = asyncio.run(choose_mode(settings(port_of(sock))))
    assert choice.mode == "cascade"
    assert choice.why.startswith("nothing answers at http://127.0.0.1")
    assert choice.why.count("nothing answers") == 1  # the same for both probes: said once


def test_auto_says_what_each_probe_found_when_they_differ() -> None:
    async def go() -> Choice:
        async with FakeAudioChat([SILENT], key="right").running() as fake:
            return await choose_mode(settings(fake.port))
    choice = asyncio.run(go())
    assert choice.mode == "cascade"
    assert "realtime: " in choice.why and "HTTP" in choice.why
    assert "audio-chat: it answered 401" in choice.why


def test_auto_without_an_endpoint_is_the_cascade() -> None:
    assert asyncio.run(choose_mode(S2sSettings(mode="auto"))).mode == "cascade"
    assert asyncio.run(choose_mode(S2sSettings())) == Choice("cascade")


def test_auto_chooses_realtime_when_a_session_opens() -> None:
    async def go() -> Choice:
        async with FakeRealtime(["hi"], [SILENT]).running() as fake:
            return await choose_mode(settings(fake.port))
    assert asyncio.run(go()) == Choice("realtime")


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_auto_chooses_audio_chat_when_the_model_takes_audio(dialect: str) -> None:
    async def go() -> tuple[Choice, FakeAudioChat]:
        async with FakeAudioChat([SILENT]).running() as fake:
            return await choose_mode(settings(fake.port, dialect=dialect)), fake
    choice, fake = asyncio.run(go())
    assert choice == Choice("audio-chat")
    assert fake.requests[0]["modalities"] == ["text", "audio"]


def test_a_refused_key_and_a_wrong_protocol_are_said_plainly(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("KOE_TEST_S2S_KEY", "wrong")

    async def refused() -> None:
        async with FakeRealtime(["hi"], [SILENT], key="right").running() as fake:
            await choose_mode(settings(fake.port, "realtime", api_key_env="KOE_TEST_S2S_KEY"))

    with pytest.raises(S2sKeyRefused) as exc:
        asyncio.run(refused())
    assert "401" in exc.value.hint and "$KOE_TEST_S2S_KEY" in exc.value.hint
    assert "wrong" not in exc.value.hint  # the key itself is never shown

    async def no_websocket() -> None:
        async with FakeAudioChat([SILENT]).running() as fake:
            await choose_mode(settings(fake.port, "realtime"))

    with pytest.raises(S2sWrongProtocol):
        asyncio.run(no_websocket())


def test_koe_run_says_an_unreachable_endpoint_in_one_line(tmp_path: Path) -> None:
    write_wav(tmp_path / "q.wav", np.zeros(16000, dtype=np.int16), 16000)
    with refusing_port() as sock:
        env = {**os.environ, "KOE_S2S_URL": f"http://127.0.0.1:{port_of(sock)}/v1"}
        done = subprocess.run([sys.executable, "-m", "koe.voice", "run", "--mode", "realtime",
                               "--input", str(tmp_path / "q.wav")], capture_output=True,
                              text=True, env=env, timeout=120)
    assert done.returncode != 0
    assert done.stderr.startswith("koe: error: I can't reach the speech endpoint right now.")
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 2


def test_koe_run_needs_an_endpoint_for_a_speech_mode(tmp_path: Path) -> None:
    write_wav(tmp_path / "q.wav", np.zeros(16000, dtype=np.int16), 16000)
    done = subprocess.run([sys.executable, "-m", "koe.voice", "run", "--mode", "audio-chat",
                           "--input", str(tmp_path / "q.wav")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert done.stderr.startswith("koe: error: s2s.mode = 'audio-chat' needs an endpoint")


def test_unreachable_is_one_error() -> None:
    with refusing_port() as sock, pytest.raises(S2sUnreachable):
        asyncio.run(choose_mode(settings(port_of(sock), "audio-chat")))


def test_koe_run_in_auto_mode_says_why_it_falls_back(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The one line goes to standard error, terminal or not; the cascade then loads (here it
    stops right there, to keep the test fast)."""
    from koe.config.errors import KoeError
    from koe.voice.assistant.parts import Parts
    from koe.voice.cli import main

    async def stop(*args: object, **kwargs: object) -> None:
        raise KoeError("the cascade would load now")

    monkeypatch.setattr(Parts, "load", stop)
    write_wav(tmp_path / "q.wav", np.zeros(16000, dtype=np.int16), 16000)
    with refusing_port() as sock:
        monkeypatch.setenv("KOE_S2S_URL", f"http://127.0.0.1:{port_of(sock)}/v1")
        code = main(["run", "--mode", "auto", "--input", str(tmp_path / "q.wav")])
    err = capsys.readouterr().err.splitlines()
    assert code != 0
    assert err[0].startswith("koe: no speech-to-speech endpoint (nothing answers at ")
    assert err[0].endswith("; using the cascade")
    assert err[1] == "koe: error: the cascade would load now"
