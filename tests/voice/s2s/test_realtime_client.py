"""koe's Realtime client against a stand-in for a hosted Realtime API (beta event names) over a
real WebSocket: memories in the session before each response, the reply played, barge-in
cancelling and truncating to what was played, and both sides kept in memory as heard."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from koe.config.schema import Settings
from koe.memory.store import MemoryStore
from koe.voice.audio.filemode import FileMicrophone, FileSpeaker
from koe.voice.s2s.endpoint import S2sEndpoint
from koe.voice.s2s.realtime_loop import RealtimeAssistant
from koe.voice.tts.script import Line
from tests.voice.assistant.helpers import first_sound_after, question_file
from tests.voice.s2s.fake_realtime import RATE, FakeRealtime, Reply
from tests.voice.s2s.helpers import open_conversation, s2s_settings, spoken

pytestmark = pytest.mark.slow
FACT = "My sister Hannah's birthday is on the twelfth of May."
QUESTIONS = ["When is my sister Hannah's birthday?", "Tell me a long story.",
             "Wait, one more thing."]
REPLIES = ["Her birthday is on the twelfth of May.",
           "Once upon a time a small robot lived in a quiet town by the sea, and every morning "
           "it walked along the beach to collect shells for all of its friends, who waited for "
           "it at the harbour with warm bread and tea.",
           "Of course, go ahead."]


def converse(settings: Settings, fake: FakeRealtime, question: Path, reply: Path
             ) -> RealtimeAssistant:
    async def go() -> RealtimeAssistant:
        async with fake.running():
            settings.s2s.url = f"http://127.0.0.1:{fake.port}/v1"
            conversation = await open_conversation(settings)
            assistant = RealtimeAssistant(settings, S2sEndpoint.from_settings(settings.s2s),
                                          conversation)
            try:
                async with FileSpeaker(reply) as speaker, \
                        FileMicrophone(question, tail_seconds=1.0) as microphone:
                    await assistant.run(microphone, speaker)
            finally:
                await conversation.memory.close()
            return assistant
    return asyncio.run(go())


def test_memories_barge_in_and_transcripts_over_beta_events(tmp_path: Path) -> None:
    settings = s2s_settings(tmp_path, "http://127.0.0.1:1/v1", dialect="beta")
    with MemoryStore.open(settings.memory) as store:
        store.add_turn("user", FACT, "earlier", at=time.time() - 3 * 86400)
    # The third question comes 2.5 s into the long reply to the second: a barge-in.
    said = question_file(tmp_path / "q.wav", [Line(QUESTIONS[0], 7.0), Line(QUESTIONS[1], 3.0),
                                              Line(QUESTIONS[2], 6.0)])
    fake = FakeRealtime(QUESTIONS, [Reply(text, spoken(text)) for text in REPLIES])
    assistant = converse(settings, fake, tmp_path / "q.wav", tmp_path / "r.wav")

    assert fake.headers[0].get("OpenAI-Beta") == "realtime=v1"
    assert fake.headers[0].get("Authorization") is None  # no key in the environment
    # Before the first response, the session's instructions carried the recalled memory.
    kinds = [e["type"] for e in fake.received if e["type"] != "input_audio_buffer.append"]
    first_response = kinds.index("response.create")
    assert kinds[first_response - 1] == "session.update"
    update = fake.received[[i for i, e in enumerate(fake.received)
                            if e["type"] == "session.update"][1]]
    assert "Hannah" in update["session"]["instructions"]
    assert "twelfth of May" in update["session"]["instructions"]
    assert update["session"]["turn_detection"]["create_response"] is False
    assert len(fake.of_type("response.create")) == 3
    assert fake.of_type("input_audio_buffer.append")  # the microphone went up

    reports = assistant.reports
    assert [r.transcript for r in reports] == QUESTIONS
    assert reports[0].memories and "Hannah" in reports[0].memories[0]
    assert reports[0].first_audio > said[0].end
    assert first_sound_after(tmp_path / "r.wav", said[0].end) is not None
    # The barge-in: the response cancelled and truncated to what was played.
    long_reply = reports[1]
    assert long_reply.interrupted and long_reply.barge_in is not None
    assert fake.of_type("response.cancel")
    truncate = fake.of_type("conversation.item.truncate")
    assert len(truncate) == 1 and truncate[0]["content_index"] == 0
    played_ms = (long_reply.stopped - long_reply.first_audio) * 1000
    assert abs(truncate[0]["audio_end_ms"] - played_ms) < 150
    assert 0 < truncate[0]["audio_end_ms"] < len(spoken(REPLIES[1])) * 1000 / RATE
    assert long_reply.spoken and REPLIES[1].startswith(long_reply.spoken)
    assert len(long_reply.spoken) < len(REPLIES[1]) / 2

    with MemoryStore.open(settings.memory) as store:
        turns = sorted((r for r in store.records() if r.conversation != "earlier"),
                       key=lambda r: r.timestamp)
    assert [(r.role, r.text.strip()) for r in turns] == [
        ("user", QUESTIONS[0]), ("assistant", REPLIES[0]), ("user", QUESTIONS[1]),
        ("assistant", REPLIES[1][: len(turns[3].text.strip())]), ("user", QUESTIONS[2]),
        ("assistant", REPLIES[2])]
    assert turns[3].interrupted and turns[3].spoken == long_reply.spoken
    assert not turns[1].interrupted and {r.source for r in turns} == {"voice"}
