"""The embedded llama.cpp server, for real: streaming, cancelling, crashing, no orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from koe.voice.conversation.conversation import Conversation
from koe.voice.llm.client import ChatClient
from koe.voice.llm.errors import LlmError
from koe.voice.llm.provider import LlmProvider
from koe.voice.llm.server import LocalServer
from koe.voice.llm.types import Message

from .helpers import GEMMA_TEMPLATE, gemma_settings, read_until

pytestmark = pytest.mark.slow
# Keeps Gemma talking until it is stopped (llama.cpp's own request field).
ENDLESS = {"ignore_eos": True}
LONG_REPLY = 3000


def metric(server: LocalServer, name: str) -> float:
    text = httpx.get(server.base_url.removesuffix("/v1") + "/metrics").text
    line = next(ln for ln in text.splitlines() if ln.startswith(f"llamacpp:{name} "))
    return float(line.split()[1])


def wait_idle(server: LocalServer) -> None:
    """Until the server has no request in progress (a long reply would keep it busy)."""
    for _ in range(600):
        if metric(server, "requests_processing") == 0:
            return
        time.sleep(0.1)
    raise AssertionError("the server is still generating")


def process_gone(pid: int) -> bool:
    """True once `pid` has exited (a zombie waiting for its parent counts as gone)."""
    for _ in range(300):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def test_streams_and_reuses_the_cached_prefix(gemma_server: LocalServer) -> None:
    # A new first line: nothing of this prompt is in the shared server's cache yet.
    messages = [Message("system", f"Run {uuid.uuid4().hex}. "
                        + "You answer questions about geography. " * 8),
                Message("user", "What is the capital of France?")]

    async def twice() -> list:
        async with ChatClient.from_settings(gemma_settings(Path(), max_tokens=8),
                                            base_url=gemma_server.base_url) as client:
            replies = []
            for _ in range(2):
                reply = client.stream(messages)
                replies.append(("".join([d async for d in reply]), reply.stats))
            return replies

    (first, cold), (second, warm) = asyncio.run(twice())
    assert first and second
    assert cold.completion_tokens == warm.completion_tokens == 8
    assert cold.cache_ratio < 0.2  # at most the template's first tokens
    assert warm.prompt_tokens == cold.prompt_tokens
    assert warm.cache_ratio > 0.9  # all but the last few tokens, re-read to start the reply


def test_closing_the_reply_stops_the_server_generating(gemma_server: LocalServer) -> None:
    wait_idle(gemma_server)
    before = metric(gemma_server, "tokens_predicted_total")

    async def read_a_little() -> None:
        async with ChatClient.from_settings(gemma_settings(Path()),
                                            base_url=gemma_server.base_url) as client:
            reply = client.stream([Message("user", "Tell me a story.")],
                                  max_tokens=LONG_REPLY, extra=ENDLESS)
            for _ in range(3):
                await anext(reply)
            await reply.aclose()

    asyncio.run(read_a_little())
    wait_idle(gemma_server)
    generated = metric(gemma_server, "tokens_predicted_total") - before
    assert generated < LONG_REPLY / 10, f"{generated} tokens generated after the close"


def test_a_crashed_server_is_restarted_on_the_next_turn(gemma_path: Path) -> None:
    backend = LlmProvider(gemma_settings(gemma_path, max_tokens=6))
    conversation = Conversation(backend)

    async def crash_then_ask() -> tuple[str, str]:
        async with backend:
            stream = conversation.ask("Tell me a story.")
            await anext(stream)
            first_pid = backend.server.pid
            os.kill(first_pid, signal.SIGKILL)
            with pytest.raises(LlmError):
                async for _ in stream:
                    pass
            reply = await conversation.reply_to("Hello?")
            assert backend.server.pid != first_pid
            return conversation.turns[0].reply, reply

    interrupted, reply = asyncio.run(crash_then_ask())
    assert interrupted  # what was said before the crash is kept
    assert reply
    assert conversation.turns[0].interrupted and not conversation.turns[1].interrupted


def server_children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT],
                         ids=["killed", "terminated", "ctrl-c"])
def test_no_orphan_server_when_koe_chat_ends(gemma_path: Path, how: signal.Signals) -> None:
    env = {**os.environ, "KOE_LLM_LOCAL_MODEL": str(gemma_path),
           "KOE_LLM_LOCAL_CONTEXT_SIZE": "512", "KOE_LLM_LOCAL_CHAT_TEMPLATE": GEMMA_TEMPLATE,
           "KOE_LLM_MAX_TOKENS": "4"}
    koe = subprocess.Popen([sys.executable, "-m", "koe.voice.cli", "chat", "--no-memory"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        koe.stdin.write("Hello\n")
        koe.stdin.flush()
        assert read_until(koe.stdout, "you> ", count=2), "no reply came"
        [server_pid] = server_children(koe.pid)
        koe.send_signal(how)
        if how == signal.SIGINT:
            # The base model may itself write "you> "; a Ctrl-C that lands in the reply stops
            # the reply, so press it again, as a user would, until the chat ends.
            for _ in range(3):
                try:
                    koe.wait(10)
                    break
                except subprocess.TimeoutExpired:
                    koe.send_signal(how)
        koe.wait(60)
        assert process_gone(server_pid), f"the llama.cpp server outlived koe ({how.name})"
    finally:
        koe.kill()
        koe.wait()
