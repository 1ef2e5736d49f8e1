"""What can go wrong when koe asks a language model, each said in one plain sentence.

The message is what the user hears or reads; the hint holds the details (never the API key).
"""

from __future__ import annotations

import re
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


class ContextOverflow(LlmError):
    """The prompt and the reply do not fit the model's context window."""

    def __init__(self, detail: str, local: bool) -> None:
        fix = ("raise llm.local.context_size, or lower llm.history_tokens or chat.memories"
               if local else "lower llm.history_tokens or chat.memories, or use a model with "
               "a longer context")
        super().__init__("The conversation no longer fits in the language model's memory.",
                         hint=f"{fix} ({detail})" if detail else fix)


class ReplyCut(LlmError):
    """The server went past a bound koe puts on every reply, whatever it was asked."""

    def __init__(self, detail: str, setting: str) -> None:
        super().__init__("The language model would not stop, so I cut its answer off.",
                         hint=f"{detail}; raise {setting} if answers this long are wanted")


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


# How servers say a prompt is too long: llama.cpp ("the request exceeds the available context
# size", "exceed_context_size_error"), OpenAI ("context_length_exceeded", "maximum context
# length"), vLLM and Ollama (".. context window ..", "too many tokens").
_OVERFLOW = re.compile(r"exceed\w*[ _](the )?(available )?context|context[ _](length|size|window)"
                       r"|maximum context|too many tokens|context overflow|n_ctx", re.IGNORECASE)


def is_context_overflow(detail: str) -> bool:
    return bool(_OVERFLOW.search(detail))
