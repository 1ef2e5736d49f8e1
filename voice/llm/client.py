"""A streaming chat client for any OpenAI-compatible endpoint (llama.cpp, Ollama, vLLM, OpenAI).

`ChatClient.stream(messages)` returns a `ReplyStream`: an async iterator of text deltas.
Closing it (or cancelling the task reading it) closes the HTTP stream at once, so the server
stops generating: barge-in relies on that.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from koe.config.errors import one_line
from koe.config.schema import LlmSettings
from koe.voice.llm.chunks import ChunkParser, error_text
from koe.voice.llm.deadlines import ReplyDeadlines
from koe.voice.llm.errors import (
    AuthFailed,
    ContextOverflow,
    EndpointUnreachable,
    LlmError,
    LlmTimeout,
    MalformedReply,
    RateLimited,
    ReplyCut,
    RequestRejected,
    ServerFailed,
    StreamBroken,
    is_context_overflow,
)
from koe.voice.llm.sse import bounded_lines
from koe.voice.llm.types import Endpoint, Message, ReplyStats

# Longest Retry-After koe waits through on its own; a longer one is reported to the user.
MAX_RETRY_WAIT = 10.0
# Longest line of an event stream; a chunk is a few hundred characters.
MAX_LINE_CHARS = 1_000_000


class ChatClient:
    """Chat completions over one pooled HTTP connection to an endpoint."""

    def __init__(self, endpoint: Endpoint, *, temperature: float = 0.7,
                 max_tokens: int = 300) -> None:
        self.endpoint = endpoint
        self.temperature = temperature
        self.max_tokens = max_tokens
        headers = {"Accept": "text/event-stream"}
        if endpoint.api_key:
            headers["Authorization"] = f"Bearer {endpoint.api_key}"
        self._http = httpx.AsyncClient(
            base_url=endpoint.base_url.rstrip("/") + "/", headers=headers,
            # Reads are timed by ReplyStream itself: first token, progress, whole reply.
            timeout=httpx.Timeout(connect=endpoint.connect_timeout, read=None,
                                  write=endpoint.read_timeout, pool=endpoint.connect_timeout),
        )

    @classmethod
    def from_settings(cls, settings: LlmSettings, base_url: str | None = None) -> ChatClient:
        return cls(Endpoint.from_settings(settings, base_url),
                   temperature=settings.temperature, max_tokens=settings.max_tokens)

    def stream(self, messages: Sequence[Message], *, max_tokens: int | None = None,
               temperature: float | None = None,
               extra: Mapping[str, Any] | None = None) -> ReplyStream:
        """Start a reply. `extra` adds server-specific fields (llama.cpp: "ignore_eos", ...)."""
        payload: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": self.temperature if temperature is None else temperature,
            "max_tokens": max_tokens or self.max_tokens,
        }
        if self.endpoint.model:
            payload["model"] = self.endpoint.model
        payload.update(extra or {})
        return ReplyStream(self, payload)

    async def complete(self, messages: Sequence[Message], **options: Any) -> str:
        """The whole reply as one string."""
        async with self.stream(messages, **options) as reply:
            return "".join([delta async for delta in reply])

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class ReplyStream:
    """Async iterator of text deltas for one reply; `stats` is filled as the reply arrives."""

    def __init__(self, client: ChatClient, payload: dict[str, Any]) -> None:
        self._client = client
        self._payload = payload
        self.stats = ReplyStats()
        self._deltas = self._generate()

    def __aiter__(self) -> ReplyStream:
        return self

    async def __anext__(self) -> str:
        return await self._deltas.__anext__()

    async def aclose(self) -> None:
        """Stop now: the HTTP stream is closed and the server stops generating."""
        await self._deltas.aclose()

    async def __aenter__(self) -> ReplyStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _generate(self) -> AsyncIterator[str]:
        endpoint = self._client.endpoint
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        clock = ReplyDeadlines(endpoint, loop.time())
        length = 0
        try:
            async with asyncio.timeout_at(clock.next()):
                response = await self._open()
            try:
                if not _is_event_stream(response):
                    async with asyncio.timeout_at(clock.next()):
                        text = await self._whole_reply(response)
                    self.stats.first_token_seconds = time.perf_counter() - started
                    _check_length(len(text), endpoint)
                    if text:
                        yield text
                    return
                parser = ChunkParser(self.stats)
                lines = bounded_lines(response.aiter_text(), MAX_LINE_CHARS)
                while True:
                    async with asyncio.timeout_at(clock.next()):
                        line = await anext(lines, None)
                    if line is None:
                        break
                    deltas = parser.feed(line)
                    if deltas:
                        clock.text_arrived(loop.time())
                        if self.stats.first_token_seconds is None:
                            self.stats.first_token_seconds = time.perf_counter() - started
                    for delta in deltas:
                        length += len(delta)
                        _check_length(length, endpoint)
                        yield delta
                    if parser.done:
                        return
                parser.finish()
            finally:
                await response.aclose()
        except TimeoutError as exc:
            raise clock.expired() from exc
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise LlmTimeout("connection", "llm.connect_timeout",
                             endpoint.connect_timeout) from exc
        except httpx.ConnectError as exc:
            raise EndpointUnreachable(endpoint.base_url) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise StreamBroken(f"the connection closed mid-reply ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise StreamBroken(f"{type(exc).__name__}: {one_line(str(exc))}") from exc
        except StreamBroken as exc:  # an error event in the stream: maybe the context is full
            if is_context_overflow(exc.hint):
                raise ContextOverflow(exc.hint, endpoint.local) from exc
            raise

    async def _open(self) -> httpx.Response:
        """POST the request; 429s are retried as the server's Retry-After asks."""
        endpoint = self._client.endpoint
        for attempt in range(endpoint.max_retries + 1):
            request = self._client._http.build_request("POST", "chat/completions",
                                                       json=self._payload)
            response = await self._client._http.send(request, stream=True)
            if response.status_code < 400:
                return response
            await response.aread()
            await response.aclose()
            if response.status_code != 429:
                raise _status_error(response, endpoint)
            wait = _retry_after(response)
            if attempt == endpoint.max_retries or (wait or 0) > MAX_RETRY_WAIT:
                raise RateLimited(wait)
            await asyncio.sleep(wait if wait is not None else 0.5 * 2**attempt)
        raise AssertionError("unreachable")

    async def _whole_reply(self, response: httpx.Response) -> str:
        """A server that ignored stream=true and sent one JSON reply."""
        body = await response.aread()
        try:
            data = json.loads(body)
            return data["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            kind = response.headers.get("content-type", "no content type")
            raise MalformedReply(f"{kind}: {one_line(body.decode(errors='replace'))}") from exc


def _check_length(length: int, endpoint: Endpoint) -> None:
    """A server that ignores max_tokens (or loops) is cut off here, whatever it was asked."""
    if length > endpoint.max_reply_chars:
        raise ReplyCut(f"longer than {endpoint.max_reply_chars:,} characters",
                       "llm.max_reply_chars")


def _is_event_stream(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds: a number, or an HTTP date."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _status_error(response: httpx.Response, endpoint: Endpoint) -> LlmError:
    status = response.status_code
    if status in (401, 403):
        return AuthFailed(status, endpoint.api_key_env, endpoint.api_key is not None)
    detail = error_text(_json_or_text(response))
    if is_context_overflow(detail):
        return ContextOverflow(f"HTTP {status}: {detail}", endpoint.local)
    return ServerFailed(status, detail) if status >= 500 else RequestRejected(status, detail)


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


