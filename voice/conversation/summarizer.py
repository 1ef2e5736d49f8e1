"""The model's summary of a conversation, asked from the summary's worker thread, and
dropped at once when the user will not wait for it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable

from koe.config.errors import KoeError
from koe.voice.llm.client import ChatClient
from koe.voice.llm.types import Message

SUMMARY_MAX_TOKENS = 200


class SummarySkipped(KoeError):
    """The model's summary was not waited for; the extractive one stands in."""


class SummaryWriter:
    """`complete(prompt) -> str` for the summary's worker thread, asking the model on `loop`;
    `skip()` (from the loop) drops the request at once, and the summary falls back to the
    extractive one (it does so on any KoeError)."""

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 client: Callable[[], Awaitable[ChatClient | None]]) -> None:
        self._loop = loop
        self._client = client
        self._skipped = threading.Event()
        self._request: concurrent.futures.Future[str] | None = None

    def complete(self, prompt: str) -> str:
        if self._skipped.is_set():
            raise SummarySkipped("skipped")
        self._request = asyncio.run_coroutine_threadsafe(self._ask(prompt), self._loop)
        if self._skipped.is_set():  # skipped while the request was being made
            self._request.cancel()
        try:
            return self._request.result()
        except concurrent.futures.CancelledError as exc:
            raise SummarySkipped("skipped") from exc

    def skip(self) -> None:
        self._skipped.set()
        if self._request is not None:
            self._request.cancel()  # cancels the request's task: its HTTP stream closes

    async def _ask(self, prompt: str) -> str:
        client = await self._client()
        if client is None:
            raise SummarySkipped("no language model")
        return await client.complete([Message("user", prompt)], max_tokens=SUMMARY_MAX_TOKENS,
                                     temperature=0.2)

