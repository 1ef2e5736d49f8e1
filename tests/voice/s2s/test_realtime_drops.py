"""A Realtime session that breaks off mid-conversation: said once, then koe reconnects and
listens on (stand-in endpoint over a real WebSocket; no models)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from koe.config.schema import LlmSettings, S2sSettings, Settings
from koe.voice.assistant.events import LoopEvent, Trouble
from koe.voice.audio.filemode import FileMicrophone, FileSpeaker
from koe.voice.audio.wav import write_wav
from koe.voice.conversation.conversation import Conversation
from koe.voice.llm.provider import LlmProvider
from koe.voice.s2s import realtime_loop
from koe.voice.s2s.endpoint import S2sEndpoint
from koe.voice.s2s.realtime_loop import RealtimeAssistant
from tests.voice.s2s.fake_realtime import FakeRealtime, Reply


def test_a_dropped_session_is_said_once_and_koe_reconnects(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(realtime_loop, "RECONNECT_SECONDS", 0.2)
    write_wav(tmp_path / "quiet.wav", np.zeros(16000 * 3, dtype=np.int16), 16000)
    fake = FakeRealtime(["hi"], [Reply("Hi.", np.zeros(2400, dtype=np.int16))],
                        drop_first_after=0.5)
    seen: list[LoopEvent] = []

    async def go() -> None:
        async with fake.running():
            url = f"http://127.0.0.1:{fake.port}/v1"
            settings = Settings(s2s=S2sSettings(mode="realtime", url=url, model="m"))
            conversation = Conversation(LlmProvider(LlmSettings(endpoint=url, model="m")))
            assistant = RealtimeAssistant(settings, S2sEndpoint.from_settings(settings.s2s),
                                          conversation, observe=seen.append)
            async with FileSpeaker(None) as speaker, \
                    FileMicrophone(tmp_path / "quiet.wav") as microphone:
                await assistant.run(microphone, speaker)

    asyncio.run(go())
    troubles = [e for e in seen if isinstance(e, Trouble)]
    assert len(troubles) == 1
    assert troubles[0].message == "The connection to the speech endpoint broke off."
    assert "1011" in troubles[0].hint
    assert fake.sessions == 2
    assert len(fake.of_type("session.update")) == 2  # the new session is set up again
    appends = fake.of_type("input_audio_buffer.append")
    assert len(appends) > 50  # the microphone went up before and after the drop
