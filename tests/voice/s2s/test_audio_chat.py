"""The audio chat-completions client against a stand-in for a hosted API over a real HTTP
socket: what goes up (the utterance as WAV, memories in the system message, earlier turns as
text), what comes back (pcm16 deltas with their transcript), and failures said plainly."""

from __future__ import annotations

import asyncio
import base64
import io
import wave
from itertools import pairwise

import numpy as np
import pytest

from koe.voice.conversation.conversation import Draft, TurnOutcome
from koe.voice.conversation.prompt import ConversationPrompt
from koe.voice.s2s.audio_chat import AudioChat, request_body
from koe.voice.s2s.endpoint import S2sEndpoint
from koe.voice.s2s.errors import S2sKeyRefused, S2sUnreachable
from koe.voice.s2s.streamed import Delta, Script, StreamedChunk, memory_block_of
from tests.net import port_of, refusing_port
from tests.voice.s2s.fake_audio_chat import FakeAudioChat
from tests.voice.s2s.fake_realtime import Reply

BLOCK = "Notes remembered from earlier conversations:\n- (3 days ago) Hannah's birthday is 12 May."
QUESTION = "When is Hannah's birthday?"


def draft() -> Draft:
    prompt = ConversationPrompt()
    earlier = prompt.prepare("Hello there.")
    prompt.finish(earlier, "Hello! How can I help?")
    return Draft(TurnOutcome(QUESTION), prompt.prepare(QUESTION, BLOCK, ["m1"]))


def endpoint(port: int, key: str = "") -> S2sEndpoint:
    return S2sEndpoint(f"http://127.0.0.1:{port}/v1", "fake-audio", api_key=key,
                       api_key_env="KOE_TEST_KEY", voice="alloy", reply_timeout=10.0)


def test_the_request_carries_the_utterance_memories_and_history() -> None:
    pcm = (np.sin(np.arange(8000) / 8) * 8000).astype(np.int16)
    body = request_body(endpoint(1), draft(), pcm)
    system, hello, answer, question = body["messages"]
    assert system["role"] == "system" and system["content"].endswith(BLOCK)
    assert memory_block_of(draft()) == BLOCK
    assert (hello["content"], answer["content"]) == ("Hello there.", "Hello! How can I help?")
    part = question["content"][0]
    assert part["type"] == "input_audio" and part["input_audio"]["format"] == "wav"
    with wave.open(io.BytesIO(base64.b64decode(part["input_audio"]["data"]))) as wav:
        assert wav.getframerate() == 16000
        assert np.array_equal(np.frombuffer(wav.readframes(wav.getnframes()), "<i2"), pcm)
    assert body["modalities"] == ["text", "audio"] and body["stream"] is True
    assert body["audio"] == {"format": "pcm16", "voice": "alloy"}
    assert body["model"] == "fake-audio"


def test_the_reply_streams_as_audio_with_its_transcript() -> None:
    tone = (np.sin(np.arange(24000) / 5) * 6000).astype(np.int16)
    reply = Reply("It is on the twelfth of May.", tone)

    async def go() -> tuple[list[Delta], FakeAudioChat]:
        async with FakeAudioChat([reply], key="sekrit").running() as fake:
            chat = AudioChat(endpoint(fake.port, key="sekrit"))
            try:
                pcm = np.zeros(1600, dtype=np.int16)
                deltas = [d async for d in chat.deltas(request_body(chat.endpoint, draft(),
                                                                    pcm))]
            finally:
                await chat.aclose()
            return deltas, fake

    deltas, fake = asyncio.run(go())
    assert len(fake.requests) == 1
    assert np.array_equal(np.concatenate([d.pcm for d in deltas]), tone)
    assert {d.rate for d in deltas} == {24000}
    assert " ".join("".join(d.text for d in deltas).split()) == reply.text


def test_what_was_heard_follows_the_audio_played() -> None:
    script = Script("It is on the twelfth of May.")
    pieces = [StreamedChunk("", np.zeros(2400, dtype=np.int16), 24000, script, n * 2400)
              for n in range(4)]
    script.samples = 4 * 2400
    heard = [p.heard(0.1) for p in pieces[:2]] + [pieces[2].heard(0.05)]
    assert " ".join(filter(None, heard)) == "It is on the"


@pytest.mark.parametrize("total", [1000, 4801, 77777, 240001])
def test_a_reply_played_in_full_is_heard_in_full(total: int) -> None:
    script = Script("The capital of France is Paris.", total)
    cuts = [0, total // 7, total // 3, total // 2 + 1, total]
    pieces = [script.words_between(a, b) for a, b in pairwise(cuts)]
    assert " ".join(filter(None, pieces)) == script.text


def test_a_refused_key_and_no_server_are_said_plainly() -> None:
    async def refused() -> None:
        async with FakeAudioChat([], key="right").running() as fake:
            chat = AudioChat(endpoint(fake.port, key="wrong"))
            try:
                async for _ in chat.deltas({"messages": []}):
                    pass
            finally:
                await chat.aclose()

    with pytest.raises(S2sKeyRefused) as exc:
        asyncio.run(refused())
    assert "$KOE_TEST_KEY" in exc.value.hint and "wrong" not in exc.value.hint

    async def nobody(port: int) -> None:
        chat = AudioChat(endpoint(port))
        try:
            async for _ in chat.deltas({"messages": []}):
                pass
        finally:
            await chat.aclose()

    with refusing_port() as sock, pytest.raises(S2sUnreachable):
        asyncio.run(nobody(port_of(sock)))
