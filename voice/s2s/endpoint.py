"""Where the speech-to-speech endpoint is, and how to address it: one base URL for both
protocols (`<url>/realtime` over ws(s), `<url>/chat/completions` over http(s))."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlencode

from koe.config.errors import KoeError
from koe.config.schema import S2sSettings


@dataclass(frozen=True)
class S2sEndpoint:
    base_url: str  # http(s)://host:port/v1
    model: str = ""
    api_key: str = field(default="", repr=False)
    api_key_env: str = "OPENAI_API_KEY"
    voice: str = ""
    beta: bool = False
    connect_timeout: float = 5.0
    reply_timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: S2sSettings) -> S2sEndpoint:
        if not settings.url:
            raise KoeError(f"s2s.mode = {settings.mode!r} needs an endpoint",
                           hint='set s2s.url, e.g. "https://api.openai.com/v1", or '
                           "KOE_S2S_URL=http://127.0.0.1:8765/v1")
        return cls(settings.url.rstrip("/"), settings.model,
                   os.environ.get(settings.api_key_env, ""), settings.api_key_env,
                   settings.voice, settings.dialect == "beta", settings.connect_timeout,
                   settings.reply_timeout)

    @property
    def realtime_url(self) -> str:
        scheme, rest = self.base_url.split("://", 1)
        query = f"?{urlencode({'model': self.model})}" if self.model else ""
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/realtime{query}"

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        if self.beta:
            headers["OpenAI-Beta"] = "realtime=v1"
        return headers
