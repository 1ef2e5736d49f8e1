"""What can go wrong with a speech-to-speech endpoint, each said in one plain sentence.

The message is what the user hears or reads; the hint names the setting to look at (never the
API key).
"""

from __future__ import annotations

from koe.config.errors import KoeError
from koe.voice.llm.errors import safe_url


class S2sError(KoeError):
    """The speech-to-speech endpoint could not be used."""


class S2sUnreachable(S2sError):
    def __init__(self, url: str, detail: str = "") -> None:
        super().__init__("I can't reach the speech endpoint right now.",
                         hint=f"nothing answers at {safe_url(url)}"
                         + (f" ({detail})" if detail else "") + "; start it or fix s2s.url")


class S2sKeyRefused(S2sError):
    def __init__(self, status: int, key_env: str, key_sent: bool) -> None:
        fix = f"check the key in ${key_env}" if key_sent else f"put your API key in ${key_env}"
        super().__init__("The speech endpoint refused my API key.",
                         hint=f"it answered {status}; {fix} (s2s.api_key_env)")


class S2sWrongProtocol(S2sError):
    def __init__(self, url: str, detail: str) -> None:
        super().__init__("The speech endpoint does not speak the protocol I expected.",
                         hint=f"{safe_url(url)}: {detail}; check s2s.url, s2s.model and s2s.mode")


class S2sTimeout(S2sError):
    def __init__(self, what: str, setting: str, seconds: float) -> None:
        super().__init__("The speech endpoint took too long to answer.",
                         hint=f"no {what} within {seconds:g} s; raise s2s.{setting} if it is "
                         "just slow")


class S2sDropped(S2sError):
    def __init__(self, detail: str) -> None:
        super().__init__("The connection to the speech endpoint broke off.", hint=detail)


class S2sRefused(S2sError):
    """The endpoint answered with an error of its own (a protocol `error` event, HTTP 4xx/5xx)."""

    def __init__(self, detail: str) -> None:
        super().__init__("The speech endpoint could not answer that.", hint=detail)
