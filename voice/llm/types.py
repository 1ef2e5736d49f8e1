"""What a chat request and its reply are made of: messages, the endpoint, the reply's stats."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from koe.config.schema import LlmSettings

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class Endpoint:
    """Where and how to ask. The API key is kept out of repr() so it never reaches a log."""

    base_url: str
    model: str = ""
    api_key: str | None = field(default=None, repr=False)
    api_key_env: str = "OPENAI_API_KEY"
    connect_timeout: float = 5.0
    first_token_timeout: float = 60.0
    read_timeout: float = 30.0
    max_retries: int = 3
    max_reply_seconds: float = 180.0  # the whole reply, request to last word
    max_reply_chars: int = 4000
    local: bool = False  # koe's own embedded server

    @classmethod
    def from_settings(cls, settings: LlmSettings, base_url: str | None = None) -> Endpoint:
        """The configured endpoint; `base_url` stands in for "local" (the embedded server)."""
        local = base_url is not None
        return cls(
            base_url=base_url or settings.endpoint,
            model=settings.model,
            # The local server is ours: it never sees a key meant for someone else.
            api_key=None if local else os.environ.get(settings.api_key_env) or None,
            api_key_env=settings.api_key_env,
            connect_timeout=settings.connect_timeout,
            first_token_timeout=settings.first_token_timeout,
            read_timeout=settings.read_timeout,
            max_retries=settings.max_retries,
            max_reply_seconds=settings.max_reply_seconds,
            max_reply_chars=settings.max_reply_chars,
            local=local,
        )


@dataclass
class ReplyStats:
    """How one reply went: the server's token counts (when it reports them) and timing."""

    prompt_tokens: int | None = None
    cached_tokens: int | None = None  # prompt tokens the server reused from its cache
    completion_tokens: int | None = None
    first_token_seconds: float | None = None
    finish_reason: str | None = None

    @property
    def cache_ratio(self) -> float | None:
        if not self.prompt_tokens or self.cached_tokens is None:
            return None
        return self.cached_tokens / self.prompt_tokens
