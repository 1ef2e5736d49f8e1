"""A spoken conversation through the official `openai` SDK's Realtime client, as any
third-party program would hold it: session.update with server VAD, the questions streamed as
input audio appends (at the pace they were spoken, or at once), each answer read until
response.done. Used by bench_s2s.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from openai import AsyncOpenAI

from koe.voice.realtime.events import RATE, decode_audio, encode_audio

AUDIO_DELTAS = ("response.output_audio.delta", "response.audio.delta")
TRANSCRIPTS = ("response.output_audio_transcript.done", "response.audio_transcript.done")


@dataclass
class SdkTurn:
    status: str = ""
    transcript: str = ""
    heard: str = ""  # the server's transcription of the question
    errors: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    chunks: list[np.ndarray] = field(default_factory=list)
    started: float = 0.0  # monotonic time the question's first append went out
    first_delta: float | None = None  # monotonic time the answer's first audio arrived

    @property
    def audio(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)


def session(beta: bool, silence_ms: int) -> dict:
    turns = {"type": "server_vad", "silence_duration_ms": silence_ms, "create_response": True}
    if beta:
        return {"modalities": ["text", "audio"], "turn_detection": turns,
                "input_audio_transcription": {"model": "whisper-1"}}
    return {"type": "realtime", "output_modalities": ["audio"],
            "audio": {"input": {"turn_detection": turns,
                                "transcription": {"model": "whisper-1"}}}}


async def converse(base_url: str, questions: Sequence[np.ndarray], *, beta: bool,
                   silence_ms: int = 600, realtime: bool = False, api_key: str = "koe",
                   timeout: float = 180.0) -> list[SdkTurn]:
    """Ask each question (24 kHz int16, ending in silence) in turn; `realtime` streams it at
    the pace it was spoken."""
    client = AsyncOpenAI(api_key=api_key, websocket_base_url=base_url)
    connect = client.beta.realtime.connect if beta else client.realtime.connect
    turns: list[SdkTurn] = []
    async with connect(model="koe") as connection:
        await connection.session.update(session=session(beta, silence_ms))  # type: ignore[arg-type]
        for pcm in questions:
            turn = SdkTurn()
            turns.append(turn)
            # the answer is read while the question is still being sent, as a player would
            sending = asyncio.create_task(_stream(connection, pcm, realtime))
            async with asyncio.timeout(timeout):
                async for received in connection:
                    turn.types.append(received.type)
                    if received.type == "error":
                        turn.errors.append(str(received.error))
                    elif received.type in AUDIO_DELTAS:
                        if turn.first_delta is None:
                            turn.first_delta = time.monotonic()
                        turn.chunks.append(decode_audio(received.delta))
                    elif received.type in TRANSCRIPTS:
                        turn.transcript = received.transcript
                    elif received.type.endswith("input_audio_transcription.completed"):
                        turn.heard = received.transcript
                    elif received.type == "response.done":
                        turn.status = received.response.status or ""
                        break
            turn.started = await sending
    return turns


async def _stream(connection, pcm: np.ndarray, realtime: bool) -> float:
    """Send the audio in 100 ms appends; the monotonic time the first one went out."""
    step = RATE // 10
    start = time.monotonic()
    for i, offset in enumerate(range(0, len(pcm), step)):
        if realtime:
            await asyncio.sleep(max(0.0, start + i * 0.1 - time.monotonic()))
        await connection.input_audio_buffer.append(audio=encode_audio(pcm[offset:offset + step]))
    return start
