"""Conversations: turns are stored before the model is asked, failures lose nothing, and
`koe chat --once` answers on standard output."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from koe.config.loader import load_settings
from koe.config.schema import LlmSettings
from koe.voice.conversation.conversation import Conversation
from koe.voice.conversation.memory_port import ConversationMemory
from koe.voice.llm.errors import EndpointUnreachable, ServerFailed
from koe.voice.llm.provider import LlmProvider
from koe.voice.llm.server import LocalServer
from tests.net import port_of, refusing_port

from .fault_server import FaultServer, running_fault_server
from .helpers import GEMMA_TEMPLATE, gemma_settings, read_until


def koe_chat(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "koe.voice.cli", "chat", *args],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def gemma_env(gemma_path: Path) -> dict[str, str]:
    return {"KOE_LLM_LOCAL_MODEL": str(gemma_path), "KOE_LLM_LOCAL_CONTEXT_SIZE": "1024",
            "KOE_LLM_LOCAL_CHAT_TEMPLATE": GEMMA_TEMPLATE, "KOE_LLM_MAX_TOKENS": "8"}


def test_turns_are_kept_when_the_endpoint_is_down_and_the_next_works_when_back() -> None:
    settings = load_settings()

    async def converse(sock: socket.socket) -> tuple[Conversation, list[str], str]:
        llm = LlmSettings(endpoint=f"http://127.0.0.1:{port_of(sock)}/ok", model="test-model")
        memory = await ConversationMemory.open(settings)
        conversation = Conversation(LlmProvider(llm), memory)
        with pytest.raises(EndpointUnreachable):
            await conversation.reply_to("Remember that my locker code is 4711.")
        with running_fault_server(sock=sock):  # the endpoint is back, on the same port
            reply = await conversation.reply_to("Are you there?")
        turns = await asyncio.to_thread(memory.store.conversation_turns, conversation.id)
        await memory.close()
        await conversation.llm.aclose()
        return conversation, [f"{t.role}: {t.text}" for t in turns], reply

    with refusing_port() as sock:  # the endpoint is down
        conversation, stored, reply = asyncio.run(converse(sock))
    assert reply == "Hello"
    assert stored == ["user: Remember that my locker code is 4711.", "user: Are you there?",
                      "assistant: Hello"]
    # the failed turn left no half-answer in the prompt: one exchange follows the system prompt
    assert [e.reply for e in conversation.prompt.exchanges] == ["Hello"]


def test_a_server_error_mid_conversation_is_one_sentence(fault_server: FaultServer) -> None:
    llm = LlmSettings(endpoint=fault_server.url("server-error"), model="m")

    async def ask() -> None:
        async with LlmProvider(llm) as provider:
            await Conversation(provider).reply_to("Hi")

    with pytest.raises(ServerFailed) as caught:
        asyncio.run(ask())
    assert caught.value.message == "The language model server had an internal error."


def test_chat_once_with_a_url_endpoint(fault_server: FaultServer) -> None:
    done = koe_chat("--once", "Say hello", "--no-memory", "--endpoint", fault_server.url("ok"),
                    "--model", "test-model")
    assert (done.returncode, done.stdout) == (0, "Hello\n")


def test_chat_once_fails_with_one_clear_line(fault_server: FaultServer) -> None:
    done = koe_chat("--once", "Hi", "--no-memory", "--endpoint", fault_server.url("unauthorized"),
                    "--model", "m")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == "koe: error: The language model refused my API key."
    assert done.stdout == ""


def test_a_url_endpoint_needs_a_model_name() -> None:
    done = koe_chat("--once", "Hi", "--no-memory", "--endpoint", "http://127.0.0.1:9/v1")
    assert done.returncode == 1
    assert "llm.model" in done.stderr


@pytest.mark.slow
def test_chat_once_with_the_local_server_stores_both_turns(gemma_path: Path) -> None:
    done = koe_chat("--once", "What is the capital of France?", env=gemma_env(gemma_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()

    async def stored() -> list[tuple[str, str]]:
        memory = await ConversationMemory.open(load_settings())
        records = await asyncio.to_thread(memory.store.records)
        await memory.close()
        return [(r.role, r.text) for r in sorted(records, key=lambda r: r.timestamp)]

    assert asyncio.run(stored()) == [("user", "What is the capital of France?"),
                                     ("assistant", done.stdout.removesuffix("\n"))]


def test_closing_a_conversation_has_the_model_summarize_it(fault_server: FaultServer) -> None:
    llm = LlmSettings(endpoint=fault_server.url("ok"), model="test-model")

    async def converse() -> list:
        memory = await ConversationMemory.open(load_settings())
        async with LlmProvider(llm) as provider:
            conversation = Conversation(provider, memory)
            await conversation.reply_to("I like green tea.")
            await conversation.reply_to("And ginger biscuits.")
            await conversation.close()
        turns = await asyncio.to_thread(memory.store.conversation_turns, conversation.id)
        await memory.close()
        return [t for t in turns if t.role == "summary"]

    [summary] = asyncio.run(converse())
    assert summary.text == "Hello"  # what the endpoint wrote, not an extract
    asked = fault_server.requests[-1][2]["messages"][-1]["content"]
    assert "I like green tea." in asked and "ginger biscuits" in asked


def test_ctrl_c_stops_a_reply_and_the_chat_goes_on(fault_server: FaultServer) -> None:
    koe = subprocess.Popen(
        [sys.executable, "-m", "koe.voice.cli", "chat", "--no-memory",
         "--endpoint", fault_server.url("endless"), "--model", "m"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        koe.stdin.write("Tell me everything\n")
        koe.stdin.flush()
        assert read_until(koe.stdout, "w3 ", count=1)
        koe.send_signal(signal.SIGINT)
        assert fault_server.endless_stopped.wait(10), "the reply kept streaming"
        out, err = koe.communicate("", timeout=60)  # end of input ends the chat
    finally:
        koe.kill()
    assert koe.returncode == 0, err
    assert "[stopped]" in out and out.rstrip().endswith("you>")


@pytest.mark.slow
def test_prefill_lets_the_final_question_find_its_memories_cached(
        gemma_server: LocalServer, gemma_path: Path) -> None:
    from datetime import datetime, timedelta

    settings = load_settings()
    llm = gemma_settings(gemma_path, max_tokens=4)

    async def converse() -> tuple[int, int, int]:
        memory = await ConversationMemory.open(settings)
        past = (datetime.now() - timedelta(days=3)).timestamp()
        for fact in ("My sister Hannah's birthday is on the 14th of March.",
                     "Hannah loves roses.", "My cat Miso is scared of the vacuum cleaner."):
            await asyncio.to_thread(memory.store.add_turn, "user", fact, "past", at=past)
        async with LlmProvider(llm, server=gemma_server) as provider:
            conversation = Conversation(provider, memory)
            await conversation.prefill("What did I tell you about my sister's")
            await conversation.reply_to("What did I tell you about my sister's birthday?")
            turn = conversation.turns[-1]
        await memory.close()
        return turn.memories_quoted, turn.stats.prompt_tokens, turn.stats.cached_tokens

    quoted, prompt_tokens, cached = asyncio.run(converse())
    assert quoted >= 2
    # all but the question's last words (and the reply's start) came from the server's cache
    assert prompt_tokens - cached <= 16, (prompt_tokens, cached)
