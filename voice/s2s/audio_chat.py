"""Audio chat completions: the user's utterance goes up as a WAV, the reply comes back as
streamed 24 kHz pcm16 audio with its transcript, played as it arrives.

koe still hears the utterance itself (Whisper): the transcript is what memory recalls for and
stores, exactly as in the cascade; the recalled memories go into the system message. Earlier
turns are sent as text, as they were heard.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import numpy as np

from koe.config.errors import one_line
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.wav import wav_bytes
from koe.voice.conversation.conversation import Conversation, Draft
from koe.voice.llm.errors import MalformedReply
from koe.voice.llm.sse import SseDecoder, bounded_lines
from koe.voice.s2s.endpoint import S2sEndpoint
from koe.voice.s2s.errors import (
    S2sDropped,
    S2sKeyRefused,
    S2sRefused,
    S2sTimeout,
    S2sUnreachable,
    S2sWrongProtocol,
)
from koe.voice.s2s.streamed import Delta, StreamedReply, memory_block_of

OUTPUT_RATE = 24000  # pcm16 replies are 24 kHz mono
MAX_LINE_CHARS = 4_000_000  # one event holds a few seconds of base64 audio at most


def wav_base64(pcm: np.ndarray, rate: int = SAMPLE_RATE) -> str:
    """int16 mono samples as a base64 WAV file."""
    return base64.b64encode(wav_bytes(pcm, rate)).decode("ascii")


def request_body(endpoint: S2sEndpoint, draft: Draft, pcm: np.ndarray) -> dict[str, Any]:
    """The chat request: the system prompt with the memories, earlier turns as text, and the
    utterance as audio."""
    system, *history, _question = draft.pending.messages
    block = memory_block_of(draft)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": f"{system.content}\n\n{block}" if block else system.content}]
    messages += [{"role": m.role, "content": m.content} for m in history]
    messages.append({"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": wav_base64(pcm), "format": "wav"}}]})
    audio: dict[str, str] = {"format": "pcm16"}
    if endpoint.voice:
        audio["voice"] = endpoint.voice
    body: dict[str, Any] = {"messages": messages, "modalities": ["text", "audio"],
                            "audio": audio, "stream": True}
    if endpoint.model:
        body["model"] = endpoint.model
    return body


class AudioChat:
    """One HTTP client for the session's replies."""

    def __init__(self, endpoint: S2sEndpoint) -> None:
        self.endpoint = endpoint
        self._http = httpx.AsyncClient(
            headers={"Accept": "text/event-stream", **endpoint.headers()},
            timeout=httpx.Timeout(connect=endpoint.connect_timeout, read=None,
                                  write=endpoint.reply_timeout, pool=endpoint.connect_timeout))

    def maker(self, conversation: Conversation,
              clock: Callable[[], float]) -> Callable[[str, np.ndarray], AudioChatReply]:
        """The loop's `new_reply`: each confirmed utterance is answered by the endpoint."""
        return lambda question, pcm: AudioChatReply(self, conversation, clock).start(question,
                                                                                      pcm)

    async def deltas(self, body: dict[str, Any]) -> AsyncIterator[Delta]:
        """POST the request and yield the reply's pieces as they arrive."""
        endpoint = self.endpoint
        try:
            request = self._http.build_request("POST", endpoint.chat_url, json=body)
            async with asyncio.timeout(endpoint.reply_timeout):
                response = await self._http.send(request, stream=True)
            try:
                await _check_status(response, endpoint)
                async for delta in self._read(response):
                    yield delta
            finally:
                await response.aclose()
        except TimeoutError as exc:
            raise S2sTimeout("reply", "reply_timeout", endpoint.reply_timeout) from exc
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise S2sTimeout("connection", "connect_timeout", endpoint.connect_timeout) from exc
        except httpx.ConnectError as exc:
            raise S2sUnreachable(endpoint.base_url) from exc
        except httpx.HTTPError as exc:
            raise S2sDropped(f"{type(exc).__name__}: {one_line(str(exc))}") from exc
        except MalformedReply as exc:
            raise S2sWrongProtocol(endpoint.chat_url, exc.hint) from exc

    async def _read(self, response: httpx.Response) -> AsyncIterator[Delta]:
        decoder = SseDecoder()
        lines = bounded_lines(response.aiter_text(), MAX_LINE_CHARS)
        while True:
            async with asyncio.timeout(self.endpoint.reply_timeout):
                line = await anext(lines, None)
            event = decoder.flush() if line is None else decoder.feed(line)
            if event is not None:
                if event.data.strip() == "[DONE]":
                    return
                delta = parse_chunk(event.data, self.endpoint.chat_url)
                if delta is not None:
                    yield delta
            if line is None:
                return

    async def aclose(self) -> None:
        await self._http.aclose()


def parse_chunk(data: str, url: str) -> Delta | None:
    """One streamed chunk: `choices[0].delta.audio` {data, transcript} (or plain content)."""
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError as exc:
        raise S2sWrongProtocol(url, f"not JSON in the stream: {one_line(data, 80)}") from exc
    if not isinstance(chunk, dict):
        raise S2sWrongProtocol(url, "a chunk that is not a JSON object")
    if "error" in chunk:
        error = chunk["error"]
        raise S2sRefused(one_line(str(error.get("message", error)
                                      if isinstance(error, dict) else error)))
    choices = chunk.get("choices") or []
    delta = choices[0].get("delta") or {} if choices and isinstance(choices[0], dict) else {}
    audio = delta.get("audio") or {}
    text = str(audio.get("transcript") or delta.get("content") or "")
    pcm = np.zeros(0, dtype=np.int16)
    if audio.get("data"):
        try:
            raw = base64.b64decode(audio["data"], validate=True)
        except ValueError as exc:
            raise S2sWrongProtocol(url, "audio that is not base64") from exc
        pcm = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.int16)
    return Delta(text, pcm, OUTPUT_RATE) if text or pcm.size else None


async def _check_status(response: httpx.Response, endpoint: S2sEndpoint) -> None:
    if response.status_code < 400:
        if "json" in response.headers.get("content-type", "") and \
                "event-stream" not in response.headers.get("content-type", ""):
            await response.aread()
            raise S2sWrongProtocol(endpoint.chat_url, "a whole JSON reply, not a stream")
        return
    await response.aread()
    status = response.status_code
    if status in (401, 403):
        raise S2sKeyRefused(status, endpoint.api_key_env, bool(endpoint.api_key))
    if status in (404, 405):
        raise S2sWrongProtocol(endpoint.chat_url, f"HTTP {status}")
    raise S2sRefused(f"HTTP {status}: {one_line(response.text, 160)}")


class AudioChatReply(StreamedReply):
    def __init__(self, chat: AudioChat, conversation: Conversation,
                 clock: Callable[[], float]) -> None:
        super().__init__(conversation, clock)
        self.chat = chat

    def stream(self, draft: Draft, pcm: np.ndarray) -> AsyncIterator[Delta]:
        return self.chat.deltas(request_body(self.chat.endpoint, draft, pcm))


