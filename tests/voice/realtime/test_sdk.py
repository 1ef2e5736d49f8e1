"""The official `openai` SDK's Realtime clients (GA, and beta with its header) holding a spoken
conversation with `koe serve realtime`: a third-party client, unchanged."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np
import pytest
from openai import AsyncOpenAI

from koe.voice.realtime.events import RATE, decode_audio, encode_audio
from koe.voice.tts.synthesizer import PiperSynthesizer
from tests.voice.realtime.helpers import Served, chunks_of, spoken, words

pytestmark = pytest.mark.slow


@dataclass
class Answer:
    status: str = ""
    transcript: str = ""
    types: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    chunks: list[np.ndarray] = field(default_factory=list)


async def ask(base_url: str, questions: list[np.ndarray], beta: bool) -> list[Answer]:
    """Each question streamed as appends; server VAD ends it; the answer read to the end."""
    client = AsyncOpenAI(api_key="any", websocket_base_url=base_url)
    connect = client.beta.realtime.connect if beta else client.realtime.connect
    turns = {"type": "server_vad", "silence_duration_ms": 600}
    session = {"turn_detection": turns} if beta else {
        "type": "realtime", "audio": {"input": {"turn_detection": turns}}}
    answers = []
    async with connect(model="koe") as connection:
        await connection.session.update(session=session)  # type: ignore[arg-type]
        for question in questions:
            for chunk in chunks_of(question):
                await connection.input_audio_buffer.append(audio=encode_audio(chunk))
            answer = Answer()
            answers.append(answer)
            async with asyncio.timeout(180):
                async for received in connection:
                    answer.types.append(received.type)
                    if received.type == "error":
                        answer.errors.append(str(received.error))
                    elif received.type in ("response.output_audio.delta", "response.audio.delta"):
                        answer.chunks.append(decode_audio(received.delta))
                    elif received.type.endswith("audio_transcript.done"):
                        answer.transcript = received.transcript
                    elif received.type == "response.done":
                        answer.status = received.response.status or ""
                        break
    return answers


def test_the_ga_client_holds_a_spoken_conversation(served: Served,
                                                   voice: PiperSynthesizer) -> None:
    questions = [spoken(voice, "What is the capital of Japan?"),
                 spoken(voice, "And what is the capital of France?")]
    answers = asyncio.run(ask(served.base_url, questions, beta=False))
    assert [(a.errors, a.status) for a in answers] == [([], "completed")] * 2, answers
    said = [a.transcript for a in answers]
    assert "tokyo" in words(said[0]) and "paris" in words(said[1]), said
    for answer in answers:
        heard = served.transcribe(np.concatenate(answer.chunks))
        assert len(words(heard) & words(answer.transcript)) >= len(words(answer.transcript)) / 2, \
            (heard, answer.transcript)


def test_the_beta_client_speaks_the_beta_names(served: Served,
                                               voice: PiperSynthesizer) -> None:
    answer, = asyncio.run(ask(served.base_url, [spoken(voice, "What is two plus two?")],
                              beta=True))
    assert answer.errors == [] and answer.status == "completed"
    assert "response.audio.delta" in answer.types
    assert "response.output_audio.delta" not in answer.types
    assert "conversation.item.created" in answer.types
    assert words(answer.transcript) & {"four", "4"}
    assert np.abs(np.concatenate(answer.chunks)).max() > 1000
    assert sum(c.size for c in answer.chunks) > RATE // 2
