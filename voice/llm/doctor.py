"""`koe doctor` checks for the language model: the local server and its model, or the URL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import httpx

from koe.config.checks import Check
from koe.config.errors import KoeError
from koe.config.files import is_intact
from koe.config.schema import LlmSettings, Settings
from koe.voice.llm.errors import safe_url
from koe.voice.llm.models import PACKAGED_GGUF, models_dir
from koe.voice.llm.types import Endpoint


def llm_checks(settings: Settings) -> Iterator[Check]:
    llm = settings.llm
    if llm.endpoint == "local":
        yield from _local_checks(llm)
    else:
        yield from _endpoint_checks(llm)


def _local_checks(llm: LlmSettings) -> Iterator[Check]:
    try:
        yield Check("llm server", True, f"llama.cpp via xllamacpp {metadata.version('xllamacpp')}"
                    ", started on 127.0.0.1 when needed")
    except metadata.PackageNotFoundError:
        yield Check("llm server", False, "xllamacpp is not installed", "pip install xllamacpp")
    name = llm.local.model
    label = f"llm model {name}"
    packaged = PACKAGED_GGUF.get(name)
    if packaged is None:
        path = Path(name).expanduser()
        yield Check(label, path.is_file(),
                    f"{path.stat().st_size / 1e6:.0f} MB" if path.is_file() else "no such file",
                    "" if path.is_file() else "set llm.local.model to a .gguf file or "
                    f"one of {', '.join(PACKAGED_GGUF)}")
        return
    try:
        packaged.part_paths()
    except KoeError as exc:
        yield Check(label, False, str(exc), exc.hint)
        return
    target = models_dir() / packaged.filename
    if not target.is_file():
        yield Check(label, True, f"packaged; joined into {target} on first use")
    elif is_intact(packaged, target, full=True):
        yield Check(label, True, f"{target} ({packaged.size / 1e6:.0f} MB, sha256 verified)")
    else:
        yield Check(label, False, f"{target} is damaged", "koe rebuilds it on next use; "
                    f"or delete {target}")


def _endpoint_checks(llm: LlmSettings) -> Iterator[Check]:
    endpoint = Endpoint.from_settings(llm)
    label = f"llm endpoint {safe_url(llm.endpoint)}"
    env = llm.api_key_env
    key = f"key from ${env}" if endpoint.api_key else f"no key (${env} unset)"
    headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
    try:
        status, body = _get_models(f"{llm.endpoint.rstrip('/')}/models", headers,
                                   min(MODELS_SECONDS, llm.first_token_timeout),
                                   llm.connect_timeout)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        yield Check(label, False, f"unreachable ({type(exc).__name__})",
                    "start the server or fix llm.endpoint")
        return
    except (TimeoutError, httpx.TimeoutException):
        yield Check(label, False, "no whole answer to GET /models in time",
                    "the server is up but not answering; restart it or fix llm.endpoint")
        return
    except httpx.HTTPError as exc:
        yield Check(label, False, f"no usable answer ({type(exc).__name__})",
                    "check that llm.endpoint is an OpenAI-compatible server")
        return
    if status in (401, 403):
        yield Check(label, False, f"refused the API key ({key})",
                    f"put a valid key in ${llm.api_key_env}")
        return
    yield Check(label, status < 400, f"HTTP {status}, {key}")
    if not llm.model:
        yield Check("llm model", False, "not set", "set llm.model to a model the endpoint serves")
        return
    try:
        served = {m.get("id") for m in json.loads(body).get("data", [])}
    except (ValueError, AttributeError, TypeError):
        served = set()
    listed = not served or llm.model in served
    yield Check(f"llm model {llm.model}", listed,
                "served" if served else "the endpoint lists no models",
                "" if listed else f"the endpoint serves: {', '.join(sorted(map(str, served)))}")


# The model list is small: a server that sends more, or takes longer, is not answering.
MODELS_SECONDS = 10.0
MODELS_BYTES = 1_000_000


def _get_models(url: str, headers: dict[str, str], seconds: float, connect: float
                ) -> tuple[int, bytes]:
    """GET the model list within `seconds` in all, whatever the server trickles or streams."""
    deadline = time.monotonic() + seconds
    with httpx.stream("GET", url, headers=headers,
                      timeout=httpx.Timeout(seconds, connect=connect)) as response:
        body = bytearray()
        for part in response.iter_bytes():
            body += part
            if time.monotonic() > deadline or len(body) > MODELS_BYTES:
                raise TimeoutError
    return response.status_code, bytes(body)
