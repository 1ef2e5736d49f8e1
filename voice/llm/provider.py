"""The configured language model: a URL as given, or the embedded server, kept running."""

from __future__ import annotations

import asyncio

from koe.config.schema import LlmSettings
from koe.voice.llm.client import ChatClient
from koe.voice.llm.errors import LlmError
from koe.voice.llm.server import LocalServer


class LlmProvider:
    """Hands out a ChatClient for each turn; with endpoint "local" it starts the server first,
    and again after a crash (the client then follows the server to its new port)."""

    def __init__(self, settings: LlmSettings, server: LocalServer | None = None) -> None:
        """`server` shares an already running local server (tests, benchmarks)."""
        self.settings = settings
        self._owns_server = server is None
        if settings.endpoint == "local":
            self.server = server or LocalServer(settings.local)
        else:
            self.server = None
        self._client: ChatClient | None = None
        if self.server is None and not settings.model:
            raise LlmError("No language model is named for the endpoint.",
                           hint="set llm.model (e.g. \"gpt-4o-mini\" or \"llama3.2\") when "
                           "llm.endpoint is a URL")

    async def client(self) -> ChatClient:
        if self.server is None:
            if self._client is None:
                self._client = ChatClient.from_settings(self.settings)
            return self._client
        base_url = await asyncio.to_thread(self.server.ensure_running)
        if self._client is None or self._client.endpoint.base_url != base_url:
            await self._close_client()
            self._client = ChatClient.from_settings(self.settings, base_url=base_url)
        return self._client

    async def aclose(self) -> None:
        await self._close_client()
        if self.server is not None and self._owns_server:
            await asyncio.to_thread(self.server.stop)

    async def __aenter__(self) -> LlmProvider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _close_client(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
