"""Answer quality with the real default model (Qwen 1.5B) and real memories."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from koe.config.loader import load_settings
from koe.config.schema import LlmSettings
from koe.voice.conversation.conversation import Conversation
from koe.voice.conversation.memory_port import ConversationMemory
from koe.voice.llm.provider import LlmProvider
from koe.voice.llm.server import LocalServer

pytestmark = pytest.mark.slow

# (days ago, what the user said then)
PAST = [
    (12, "My sister Hannah's birthday is on the 14th of March."),
    (9, "I adopted a grey cat called Miso last spring."),
    (6, "My car is a blue Honda that needs new brakes."),
]
YESTERDAY = [
    "We are planning a trip to Lisbon in the summer.",
    "I want to see the tiles museum there and eat pastel de nata.",
]


def ask(qwen_server: LocalServer, question: str) -> str:
    settings = load_settings()
    llm = LlmSettings(temperature=0.0, max_tokens=60)

    async def converse() -> str:
        memory = await ConversationMemory.open(settings)
        await asyncio.to_thread(remember_the_past, memory)
        async with LlmProvider(llm, server=qwen_server) as provider:
            reply = await Conversation(provider, memory).reply_to(question)
        await memory.close()
        return reply

    return asyncio.run(converse())


def remember_the_past(memory: ConversationMemory) -> None:
    from koe.memory.summary import store_summary

    now = datetime.now().astimezone()
    for days, text in PAST:
        memory.store.add_turn("user", text, f"past-{days}", at=(now - timedelta(days=days))
                              .timestamp(), source="text")
    yesterday = (now - timedelta(days=1)).replace(hour=18, minute=0)
    for i, text in enumerate(YESTERDAY):
        memory.store.add_turn("user", text, "yesterday", at=yesterday.timestamp() + 60 * i,
                              source="text")
    store_summary(memory.store, "yesterday")  # the extractive summary: no model needed


def test_a_remembered_fact_comes_back(qwen_server: LocalServer) -> None:
    reply = ask(qwen_server, "What did I tell you about my sister's birthday?").lower()
    assert "14" in reply and "march" in reply, reply


def test_what_we_talked_about_yesterday(qwen_server: LocalServer) -> None:
    reply = ask(qwen_server, "What did we talk about yesterday?").lower()
    assert "lisbon" in reply, reply
