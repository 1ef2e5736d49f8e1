"""`koe chat` when things go wrong, as a user meets it: retries store a question once, a
runaway reply is cut and not remembered, and the summary at the end says what it is doing and
gives way to a Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from koe.config.loader import load_settings
from koe.config.schema import LlmSettings
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from koe.memory.summary import summary_id
from koe.voice.conversation.conversation import Conversation
from koe.voice.conversation.memory_port import ConversationMemory
from koe.voice.llm.errors import EndpointUnreachable
from koe.voice.llm.provider import LlmProvider
from tests.net import port_of, refusing_port

from .fault_server import FaultServer, running_fault_server

QUESTION = "Remember that my locker code is 4711."
WAIT = 120  # outer bound for a process that must end by itself


def koe_chat(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "koe.voice", "chat", *args],
                          capture_output=True, text=True, timeout=WAIT,
                          env={**os.environ, **env}, stdin=subprocess.DEVNULL)


def stored() -> list[MemoryRecord]:
    with MemoryStore.open(load_settings().memory) as store:
        return store.records()


def turns(records: list[MemoryRecord]) -> list[str]:
    return [f"{r.role}: {r.text}" for r in records if r.role != "summary"]


def test_a_retried_question_is_stored_once(fault_server: FaultServer) -> None:
    with refusing_port() as sock:
        dead = f"http://127.0.0.1:{port_of(sock)}/v1"
        for _ in range(3):
            failed = koe_chat("--once", QUESTION, "--endpoint", dead, "--model", "m")
            assert failed.returncode == 1 and "can't reach" in failed.stderr
    assert turns(stored()) == [f"user: {QUESTION}"]  # kept, once: nothing said is lost
    done = koe_chat("--once", QUESTION, "--endpoint", fault_server.url("ok"), "--model", "m")
    assert done.returncode == 0 and done.stdout == "Hello\n"
    records = stored()
    assert turns(records) == [f"user: {QUESTION}", "assistant: Hello"]
    assert len({r.conversation for r in records}) == 1  # the answer joined its question


def test_an_answered_question_asked_again_is_a_new_turn(fault_server: FaultServer) -> None:
    for _ in range(2):
        done = koe_chat("--once", QUESTION, "--endpoint", fault_server.url("ok"), "--model", "m")
        assert done.returncode == 0
    assert turns(stored()) == [f"user: {QUESTION}", "assistant: Hello"] * 2


def test_retrying_within_one_conversation_keeps_one_copy(fault_server: FaultServer) -> None:
    async def converse(sock_port: int) -> list[str]:
        settings = load_settings()
        memory = await ConversationMemory.open(settings)
        dead = LlmSettings(endpoint=f"http://127.0.0.1:{sock_port}/v1", model="m")
        conversation = Conversation(LlmProvider(dead), memory)
        for _ in range(2):
            with pytest.raises(EndpointUnreachable):
                await conversation.reply_to(QUESTION)
        conversation.llm = LlmProvider(LlmSettings(endpoint=fault_server.url("ok"), model="m"))
        await conversation.reply_to(QUESTION)
        records = await asyncio.to_thread(memory.store.conversation_turns, conversation.id)
        await memory.close()
        return turns(records)

    with refusing_port() as sock:
        assert asyncio.run(converse(port_of(sock))) == [f"user: {QUESTION}", "assistant: Hello"]


def test_a_runaway_reply_is_cut_reported_and_not_remembered(fault_server: FaultServer) -> None:
    done = koe_chat("--once", "Sing", "--endpoint", fault_server.url("flood"), "--model", "m",
                    KOE_LLM_MAX_REPLY_CHARS="500")
    assert done.returncode == 1
    assert "would not stop" in done.stderr and "llm.max_reply_chars" in done.stderr
    assert "Traceback" not in done.stderr
    assert turns(stored()) == ["user: Sing"]
    assert fault_server.hung_up.wait(WAIT)


def test_an_empty_question_is_called_empty() -> None:
    for question in ("", "   "):
        done = koe_chat("--once", question)
        assert done.returncode == 2
        assert done.stderr.startswith("koe: error: argument --once: the question is empty")
        assert len(done.stderr.splitlines()) == 2


def test_ctrl_c_during_the_summary_stores_the_quick_one(fault_server: FaultServer) -> None:
    # The model answers questions at once but never gets to the summary.
    chat = subprocess.Popen(
        [sys.executable, "-m", "koe.voice", "chat", "--endpoint", fault_server.url("slow-summary"),
         "--model", "m"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "KOE_LLM_FIRST_TOKEN_TIMEOUT": "3600"})
    stderr: list[str] = []
    saving = threading.Event()

    def read_stderr() -> None:
        assert chat.stderr is not None
        for line in chat.stderr:
            stderr.append(line)
            if "saving a summary" in line:
                saving.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        assert chat.stdin is not None
        chat.stdin.write("My sister Ana visits on Friday.\nShe likes green tea.\n")
        chat.stdin.close()  # Ctrl-D
        assert saving.wait(WAIT), f"no word about the summary: {''.join(stderr)}"
        chat.send_signal(signal.SIGINT)
        code = chat.wait(WAIT)
        reader.join(WAIT)
        assert code == 0, "".join(stderr)  # the chat ended as asked, with the quick summary
    finally:
        chat.kill()
        chat.wait()
    reader.join(WAIT)
    assert "saved a quick summary instead" in "".join(stderr)
    assert "Traceback" not in "".join(stderr)
    records = stored()
    [summary] = [r for r in records if r.role == "summary"]
    conversation = next(r.conversation for r in records if r.role == "user")
    assert summary.id == summary_id(conversation) and "Ana" in summary.text


def test_the_summary_waits_for_the_model_when_left_alone(fault_server: FaultServer,
                                                         tmp_path: Path) -> None:
    with running_fault_server() as server:
        chat = subprocess.run(
            [sys.executable, "-m", "koe.voice", "chat", "--endpoint", server.url("ok"),
             "--model", "m"], input="Hi there.\nHow are you?\n", capture_output=True,
            text=True, timeout=WAIT)
    assert chat.returncode == 0, chat.stderr
    assert "saving a summary" in chat.stderr and "saved a quick summary" not in chat.stderr
    [summary] = [r for r in stored() if r.role == "summary"]
    assert summary.text == "Hello"  # the model's words (the fault server says Hello)
