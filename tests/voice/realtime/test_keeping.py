"""What the prompt keeps of a truncated reply: the words heard, or nothing when none were."""

from __future__ import annotations

import asyncio

from koe.config.schema import Settings
from koe.voice.conversation.conversation import Conversation
from koe.voice.llm.provider import LlmProvider
from koe.voice.realtime.items import AssistantItem
from koe.voice.realtime.keeping import keep_heard


def conversation_with_reply(record_id: str) -> Conversation:
    conversation = Conversation(LlmProvider(Settings().llm))
    prompt = conversation.prompt
    prompt.finish(prompt.prepare("Tell me a story."), "Once upon a time there was a fox.",
                  [record_id])
    return conversation


def test_the_history_keeps_the_words_heard() -> None:
    conversation = conversation_with_reply("rec-1")
    item = AssistantItem("item_1", record_id="rec-1")
    asyncio.run(keep_heard(conversation, item, "Once upon a time"))
    assert conversation.prompt.exchanges[-1].reply == "Once upon a time"
    assert conversation.prompt.prepare("And then?").messages[-2].content == "Once upon a time"


def test_a_reply_nobody_heard_leaves_the_history() -> None:
    conversation = conversation_with_reply("rec-1")
    asyncio.run(keep_heard(conversation, AssistantItem("item_1", record_id="rec-1"), ""))
    assert conversation.prompt.exchanges == []


def test_another_reply_is_left_alone() -> None:
    conversation = conversation_with_reply("rec-1")
    asyncio.run(keep_heard(conversation, AssistantItem("item_2", record_id="rec-2"), "x"))
    assert conversation.prompt.exchanges[-1].reply == "Once upon a time there was a fox."
