"""Checks for settings whose rule a pattern would state badly: the message says what is
wanted in words, and a hint says what to write instead (the loader prints both)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

from koe.config.languages import WHISPER_LANGUAGES, language_hint


class SettingValueError(ValueError):
    """A bad setting value, with a hint at a good one."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def language_code(value: str) -> str:
    """"EN" and " en " mean "en"; a code Whisper does not know is refused here, before any
    audio is read, rather than by Whisper halfway through a batch."""
    code = value.strip().lower()
    if code == "auto" or code in WHISPER_LANGUAGES:
        return code
    raise SettingValueError("not a language Whisper knows", hint=language_hint(value))


def endpoint_url(value: str) -> str:
    """"local", or the http(s) URL of an OpenAI-compatible server."""
    text = value.strip()
    if text.lower() == "local":
        return "local"
    if not text or any(c.isspace() for c in text):
        raise SettingValueError('must be "local" or a URL such as http://127.0.0.1:8080/v1')
    parts = urlsplit(text)
    if "://" not in text or parts.scheme not in ("http", "https"):
        bare = text.split("://", 1)[-1]
        raise SettingValueError(
            'needs http:// or https:// in front (or "local" for the bundled server)',
            hint=f'e.g. "http://{bare}"' + ("" if "/" in bare else f' or "http://{bare}/v1"'))
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise SettingValueError(f"has a bad port ({exc})",
                                hint="e.g. http://127.0.0.1:8080/v1") from exc
    if not parts.hostname:
        raise SettingValueError("has no host name", hint="e.g. http://127.0.0.1:8080/v1")
    return text


Language = Annotated[str, AfterValidator(language_code)]
EndpointUrl = Annotated[str, AfterValidator(endpoint_url)]
