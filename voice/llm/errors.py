"""What can go wrong when koe asks a language model, each said in one plain sentence.

The message is what the user hears or reads; the hint holds the details (never the API key).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from koe.config.errors import KoeError


class LlmError(KoeError):
    """A reply could not be had from the language model."""


class EndpointUnreachable(LlmError):
    def __init__(self, url: str) -> None:
        super().__init__("I can't reach the language model right now.",
                         hint=f"nothing answers at {safe_url(url)}; start the server or fix "
                         "llm.endpoint")


class AuthFailed(LlmError):
    def __init__(self, status: int, key_env: str, key_sent: bool) -> None:
        hint = (f"the endpoint answered {status}; check the key in ${key_env}" if key_sent
                else f"the endpoint answered {status}; put your API key in ${key_env}")
        super().__init__("The language model refused my API key.", hint=hint)


class RateLimited(LlmError):
    def __init__(self, retry_after: float | None) -> None:
        wait = f"it asks to wait {retry_after:.0f} s" if retry_after else "no wait was given"
        super().__init__("The language model is busy right now; please try again in a moment.",
                         hint=f"the endpoint answered 429 (rate limited); {wait}")


class ServerFailed(LlmError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__("The language model server had an internal error.",
                         hint=f"HTTP {status}" + (f": {detail}" if detail else ""))


class RequestRejected(LlmError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__("The language model server rejected the request.",
                         hint=f"HTTP {status}" + (f": {detail}" if detail else "")
                         + "; check llm.model and llm.endpoint")


class LlmTimeout(LlmError):
    def __init__(self, what: str, setting: str, seconds: float) -> None:
        super().__init__("The language model took too long to answer.",
                         hint=f"no {what} within {seconds:g} s; raise {setting} if the model "
                         "is just slow")


class MalformedReply(LlmError):
    def __init__(self, detail: str) -> None:
        super().__init__("The language model sent a reply I can't read.",
                         hint=f"not an OpenAI-compatible stream: {detail}")


class StreamBroken(LlmError):
    def __init__(self, detail: str) -> None:
        super().__init__("The language model stopped in the middle of its answer.",
                         hint=detail)


def safe_url(url: str) -> str:
    """The URL without any user:password part, fit for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
