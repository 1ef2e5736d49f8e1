"""The client against a real HTTP server that misbehaves in every way the wire allows."""

from __future__ import annotations

import asyncio
import logging

import pytest

from koe.config.schema import LlmSettings
from koe.voice.llm.client import ChatClient
from koe.voice.llm.errors import (
    AuthFailed,
    EndpointUnreachable,
    LlmTimeout,
    MalformedReply,
    RateLimited,
    RequestRejected,
    ServerFailed,
    StreamBroken,
)
from koe.voice.llm.types import Endpoint, Message
from tests.net import port_of, refusing_port

from .fault_server import FaultServer

QUESTION = [Message("user", "Say hello")]


def ask(url: str, **endpoint: object) -> str:
    async def go() -> str:
        async with ChatClient(Endpoint(url, model="test-model", **endpoint)) as client:
            return await client.complete(QUESTION)
    return asyncio.run(go())


@pytest.mark.parametrize("scenario", ["ok", "split-lines", "not-streaming"])
def test_reply_text_survives_framing(fault_server: FaultServer, scenario: str) -> None:
    assert ask(fault_server.url(scenario)) == "Hello"


def test_request_is_openai_shaped(fault_server: FaultServer) -> None:
    ask(fault_server.url("ok"))
    _, headers, body = fault_server.requests[0]
    assert body["model"] == "test-model"
    assert body["stream"] is True
    assert body["messages"] == [{"role": "user", "content": "Say hello"}]
    assert "authorization" not in {k.lower() for k in headers}


def test_rate_limit_is_retried_after_the_wait_asked(fault_server: FaultServer) -> None:
    assert ask(fault_server.url("rate-limit-once")) == "Hello"
    assert [s for s, _, _ in fault_server.requests] == ["rate-limit-once"] * 2


def test_rate_limit_gives_up_after_max_retries(fault_server: FaultServer) -> None:
    with pytest.raises(RateLimited):
        ask(fault_server.url("rate-limit-always"), max_retries=2)
    assert len(fault_server.requests) == 3


def test_rate_limit_with_a_long_wait_is_reported_not_slept(fault_server: FaultServer) -> None:
    with pytest.raises(RateLimited, match="busy") as caught:
        ask(fault_server.url("rate-limit-long"))
    assert len(fault_server.requests) == 1
    assert "3600" in caught.value.hint


@pytest.mark.parametrize(("scenario", "error", "detail"), [
    ("server-error", ServerFailed, "CUDA out of memory"),
    ("bad-model", RequestRejected, "model 'nope' not found"),
    ("garbage", MalformedReply, "<html>oops</html>"),
    ("html-page", MalformedReply, "text/html"),
    ("error-event", StreamBroken, "out of memory"),
    ("close-mid-chunked", StreamBroken, "closed mid-reply"),
    ("close-mid-plain", StreamBroken, "ended before the reply was complete"),
])
def test_failures_become_one_clear_sentence(fault_server: FaultServer, scenario: str,
                                            error: type, detail: str) -> None:
    with pytest.raises(error) as caught:
        ask(fault_server.url(scenario))
    message = caught.value.message
    assert message.endswith(".") and message.count(". ") == 0 and "\n" not in message
    assert detail in caught.value.hint


def test_first_token_timeout_ignores_keep_alives(fault_server: FaultServer) -> None:
    with pytest.raises(LlmTimeout, match="too long") as caught:
        ask(fault_server.url("slow-first-token"), first_token_timeout=0.5)
    assert "llm.first_token_timeout" in caught.value.hint


def test_read_timeout_between_chunks(fault_server: FaultServer) -> None:
    with pytest.raises(LlmTimeout) as caught:
        ask(fault_server.url("stall-after-first"), read_timeout=0.5)
    assert "llm.read_timeout" in caught.value.hint


def test_unreachable_endpoint() -> None:
    with refusing_port() as sock, pytest.raises(EndpointUnreachable, match="can't reach"
                                                ) as caught:
        ask(f"http://user:secret@127.0.0.1:{port_of(sock)}/v1")
    assert "secret" not in caught.value.hint


def test_usage_reports_cached_prompt_tokens(fault_server: FaultServer) -> None:
    async def go():
        async with ChatClient(Endpoint(fault_server.url("usage"))) as client:
            reply = client.stream(QUESTION)
            text = "".join([d async for d in reply])
            return text, reply.stats
    text, stats = asyncio.run(go())
    assert text == "Hi"
    assert (stats.prompt_tokens, stats.cached_tokens, stats.completion_tokens) == (40, 32, 2)
    assert stats.cache_ratio == 0.8
    assert stats.finish_reason == "stop"


def test_closing_the_stream_hangs_up_at_once(fault_server: FaultServer) -> None:
    async def go() -> list[str]:
        async with ChatClient(Endpoint(fault_server.url("endless"))) as client:
            reply = client.stream(QUESTION)
            got = [await anext(reply) for _ in range(3)]
            await reply.aclose()
            return got
    assert asyncio.run(go()) == ["w0 ", "w1 ", "w2 "]
    assert fault_server.endless_stopped.wait(10), "the server kept streaming after the close"
    assert fault_server.endless_sent < 1000


def test_cancelling_the_reading_task_hangs_up(fault_server: FaultServer) -> None:
    async def go() -> None:
        async with ChatClient(Endpoint(fault_server.url("endless"))) as client:
            started = asyncio.Event()

            async def read() -> None:
                async for _ in client.stream(QUESTION):
                    started.set()
            task = asyncio.create_task(read())
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    asyncio.run(go())
    assert fault_server.endless_stopped.wait(10), "the server kept streaming after the cancel"


class TestApiKey:
    KEY = "sk-test-0123456789abcdef"

    def settings(self, url: str) -> LlmSettings:
        return LlmSettings(endpoint=url, model="m", api_key_env="KOE_TEST_LLM_KEY")

    def test_key_is_sent_from_the_environment(self, fault_server: FaultServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KOE_TEST_LLM_KEY", self.KEY)
        endpoint = Endpoint.from_settings(self.settings(fault_server.url("ok")))
        assert self.KEY not in repr(endpoint)
        ask(endpoint.base_url, api_key=endpoint.api_key)
        headers = {k.lower(): v for k, v in fault_server.requests[0][1].items()}
        assert headers["authorization"] == f"Bearer {self.KEY}"

    def test_local_server_never_gets_the_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KOE_TEST_LLM_KEY", self.KEY)
        local = Endpoint.from_settings(self.settings("local"), base_url="http://127.0.0.1:1/v1")
        assert local.api_key is None

    def test_refused_key_is_never_shown_or_logged(self, fault_server: FaultServer,
                                                  caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        with pytest.raises(AuthFailed, match="refused my API key") as caught:
            ask(fault_server.url("unauthorized"), api_key=self.KEY,
                api_key_env="KOE_TEST_LLM_KEY")
        shown = f"{caught.value} {caught.value.hint} {caught.value!r}"
        assert "$KOE_TEST_LLM_KEY" in caught.value.hint
        assert self.KEY not in shown and self.KEY not in caplog.text
