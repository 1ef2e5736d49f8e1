"""Nothing a server does keeps a reply going past its bounds: keep-alives are no progress, a
reply has a length cap and a total deadline, and garbage is told apart at once.

Deadlines are configured short and waited for generously: no assertion is about how long
anything took, only about which bound ended the reply and that it ended at all.
"""

from __future__ import annotations

import asyncio

import pytest

from koe.voice.llm.client import ChatClient
from koe.voice.llm.errors import (
    ContextOverflow,
    LlmError,
    LlmTimeout,
    MalformedReply,
    ReplyCut,
)
from koe.voice.llm.types import Endpoint, Message

from .fault_server import FaultServer

QUESTION = [Message("user", "Say hello")]
# The outer limit no test should come near: a hang fails the test instead of the run.
HANG_SECONDS = 60


def ask(url: str, **endpoint: object) -> tuple[str, BaseException | None]:
    """The text received, and the error that ended the reply (None when it finished)."""

    async def go() -> tuple[str, BaseException | None]:
        got: list[str] = []
        async with ChatClient(Endpoint(url, model="test-model", **endpoint)) as client:
            try:
                async for delta in client.stream(QUESTION):
                    got.append(delta)
            except LlmError as exc:
                return "".join(got), exc
        return "".join(got), None

    async def bounded() -> tuple[str, BaseException | None]:
        return await asyncio.wait_for(go(), HANG_SECONDS)

    return asyncio.run(bounded())


def test_keep_alives_after_the_first_token_are_not_progress(fault_server: FaultServer) -> None:
    text, error = ask(fault_server.url("keepalive-after-first"), read_timeout=0.5)
    assert text == "Hel"
    assert isinstance(error, LlmTimeout)
    assert "llm.read_timeout" in error.hint
    assert fault_server.hung_up.wait(HANG_SECONDS), "the stream was not closed"


def test_chunks_without_text_are_not_progress(fault_server: FaultServer) -> None:
    text, error = ask(fault_server.url("empty-chunks-after-first"), read_timeout=0.5)
    assert text == "Hel" and isinstance(error, LlmTimeout)
    assert "llm.read_timeout" in error.hint


def test_keep_alives_alone_time_out_as_no_first_token(fault_server: FaultServer) -> None:
    text, error = ask(fault_server.url("keepalive-only"), first_token_timeout=0.5)
    assert text == "" and isinstance(error, LlmTimeout)
    assert "llm.first_token_timeout" in error.hint


def test_a_silent_server_times_out(fault_server: FaultServer) -> None:
    _, error = ask(fault_server.url("silent"), first_token_timeout=0.5)
    assert isinstance(error, LlmTimeout) and "llm.first_token_timeout" in error.hint


def test_a_trickle_is_cut_at_the_total_deadline(fault_server: FaultServer) -> None:
    # Every piece comes well within read_timeout: only the total deadline can end this reply.
    text, error = ask(fault_server.url("trickle"), read_timeout=30, max_reply_seconds=1.0)
    assert text.startswith("la ")
    assert isinstance(error, ReplyCut) and "llm.max_reply_seconds" in error.hint
    assert error.message.endswith(".") and "\n" not in error.message
    assert fault_server.hung_up.wait(HANG_SECONDS), "the server kept streaming after the cut"


def test_an_endless_reply_is_cut_at_the_length_cap(fault_server: FaultServer) -> None:
    text, error = ask(fault_server.url("flood"), max_reply_chars=500)
    assert isinstance(error, ReplyCut) and "llm.max_reply_chars" in error.hint
    assert len(text) <= 500
    assert fault_server.hung_up.wait(HANG_SECONDS), "the server kept streaming after the cut"


def test_a_reply_within_the_bounds_is_whole(fault_server: FaultServer) -> None:
    assert ask(fault_server.url("ok"), max_reply_chars=100, max_reply_seconds=30) == (
        "Hello", None)


@pytest.mark.parametrize("scenario", ["noise", "no-line-breaks"])
def test_garbage_is_told_apart_before_any_timeout(fault_server: FaultServer,
                                                  scenario: str) -> None:
    # A first-token timeout far beyond the outer limit: only recognising the garbage ends it.
    _, error = ask(fault_server.url(scenario), first_token_timeout=10 * HANG_SECONDS)
    assert isinstance(error, MalformedReply)


@pytest.mark.parametrize("local", [True, False])
def test_context_overflow_points_at_the_context_size(fault_server: FaultServer,
                                                     local: bool) -> None:
    _, error = ask(fault_server.url("context-overflow"), local=local)
    assert isinstance(error, ContextOverflow)
    assert ("llm.local.context_size" in error.hint) is local
    assert "llm.history_tokens" in error.hint and "llm.model" not in error.hint


def test_a_context_overflow_in_the_stream_is_named_too(fault_server: FaultServer) -> None:
    _, error = ask(fault_server.url("overflow-event"), local=True)
    assert isinstance(error, ContextOverflow) and "llm.local.context_size" in error.hint


@pytest.mark.slow
def test_a_real_server_past_its_context_points_at_the_context_size(gemma_server) -> None:
    long_prompt = [Message("user", "word " * 5000)]  # far past the server's 2048 tokens

    async def go() -> None:
        async with ChatClient(Endpoint(gemma_server.base_url, local=True)) as client:
            await client.complete(long_prompt, max_tokens=8)

    with pytest.raises(ContextOverflow) as caught:
        asyncio.run(go())
    assert "llm.local.context_size" in caught.value.hint
