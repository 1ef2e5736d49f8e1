"""Which brain `koe run` uses: the cascade, a Realtime session or audio chat completions.

`auto` probes the configured endpoint within s2s.probe_timeout: a Realtime session first,
then a model that takes audio in (a tiny request whose stream is closed at its first byte).
When neither answers, koe uses its own cascade and says why in one line.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from koe.config.schema import LlmSettings, S2sSettings
from koe.voice.llm.client import ChatClient
from koe.voice.llm.errors import LlmError
from koe.voice.llm.provider import LlmProvider
from koe.voice.s2s.audio_chat import AudioChat, wav_base64
from koe.voice.s2s.endpoint import S2sEndpoint
from koe.voice.s2s.errors import S2sError
from koe.voice.s2s.realtime_connection import RealtimeConnection

Mode = Literal["cascade", "realtime", "audio-chat"]
PROBE_SECONDS_OF_SILENCE = 0.1


@dataclass(frozen=True)
class Choice:
    mode: Mode
    why: str = ""  # for a fallback to the cascade: what the probe found


async def choose_mode(settings: S2sSettings) -> Choice:
    """The mode to run in. A mode named outright is checked the same way, and an endpoint
    that does not answer is its S2sError (one line, before any model loads)."""
    if settings.mode == "cascade":
        return Choice("cascade")
    if settings.mode != "auto":
        endpoint = S2sEndpoint.from_settings(settings)
        probe = probe_realtime if settings.mode == "realtime" else probe_audio_chat
        await probe(endpoint)
        return Choice(settings.mode)
    if not settings.url:
        return Choice("cascade", "no s2s.url is set")
    endpoint = S2sEndpoint.from_settings(settings)
    endpoint = replace(endpoint, connect_timeout=min(endpoint.connect_timeout,
                                                     settings.probe_timeout),
                       reply_timeout=settings.probe_timeout)
    failures: dict[str, str] = {}
    for mode, probe in (("realtime", probe_realtime), ("audio-chat", probe_audio_chat)):
        try:
            async with asyncio.timeout(settings.probe_timeout):
                await probe(endpoint)
            return Choice(mode)
        except TimeoutError:
            failures[mode] = f"no answer within {settings.probe_timeout:g} s"
        except S2sError as exc:
            failures[mode] = exc.hint or exc.message
    if len(set(failures.values())) == 1:  # the same for both: say it once
        return Choice("cascade", next(iter(failures.values())))
    return Choice("cascade", "; ".join(f"{mode}: {why}" for mode, why in failures.items()))


async def probe_realtime(endpoint: S2sEndpoint) -> None:
    """A Realtime session opens (session.created), and is closed at once."""
    connection = await RealtimeConnection.open(endpoint)
    await connection.close()


async def probe_audio_chat(endpoint: S2sEndpoint) -> None:
    """The model takes audio in (a tenth of a second of silence, with a few words so that
    there is something to answer) and starts a streamed spoken reply, closed at once."""
    silence = np.zeros(round(16000 * PROBE_SECONDS_OF_SILENCE), dtype=np.int16)
    body = {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "Say OK."},
        {"type": "input_audio", "input_audio": {"data": wav_base64(silence), "format": "wav"}}]}],
        "modalities": ["text", "audio"], "audio": {"format": "pcm16"}, "stream": True}
    if endpoint.model:
        body["model"] = endpoint.model
    chat = AudioChat(endpoint)
    try:
        async for _ in chat.deltas(body):
            break
    finally:
        await chat.aclose()


def summary_model(llm: LlmSettings, s2s: S2sSettings) -> LlmSettings:
    """The language model settings for a speech-to-speech run: the endpoint's own chat
    completions (for the conversation's summary; the extractive one stands in when it has
    none), never the local server."""
    return llm.model_copy(update={"endpoint": s2s.url, "model": s2s.model or "default",
                                  "api_key_env": s2s.api_key_env})


class NoChatModel(LlmProvider):
    """A Realtime run has no chat model to ask: the conversation's summary is the extractive
    one, and nothing else is sent to the endpoint."""

    async def client(self) -> ChatClient:
        raise LlmError("A Realtime session has no chat model for summaries.")


def provider_for(mode: Mode, llm: LlmSettings, s2s: S2sSettings) -> LlmProvider | None:
    """The language model a run in `mode` uses besides the endpoint (None: the cascade's)."""
    if mode == "cascade":
        return None
    provider = NoChatModel if mode == "realtime" else LlmProvider
    return provider(summary_model(llm, s2s))
