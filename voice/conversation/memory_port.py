"""The memory side of a conversation: store turns, recall for a question, summarize at the end.

The memory store blocks (embeddings, disk), so every call runs in a worker thread and the
event loop keeps streaming.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import TYPE_CHECKING

# Extra hits asked for, to make up for those dropped as already in the prompt.
MAX_EXTRA_RECALL = 20

if TYPE_CHECKING:
    from koe.config.schema import Settings
    from koe.memory.recall import Recalled
    from koe.memory.store import MemoryRecord, MemoryStore


class ConversationMemory:
    def __init__(self, store: MemoryStore, recall_count: int, source: str = "text",
                 min_relevance: float = 0.0, retry_seconds: float = 1800.0) -> None:
        """`min_relevance` (0-1): memories scoring below it are not quoted at all, so a
        question that has nothing to do with memory costs no prompt tokens.
        `retry_seconds`: a question asked again this soon after it went unanswered is the
        same memory (see `remember_question`)."""
        self.store = store
        self.recall_count = recall_count
        self.source = source
        self.min_relevance = min_relevance
        self.retry_seconds = retry_seconds

    @classmethod
    async def open(cls, settings: Settings, source: str = "text") -> ConversationMemory:
        from koe.memory.store import MemoryStore

        store = await asyncio.to_thread(MemoryStore.open, settings.memory)
        return cls(store, settings.chat.memories, source,
                   retry_seconds=settings.memory.idle_minutes * 60)

    async def remember(self, role: str, text: str, conversation: str, *,
                       interrupted: bool = False, spoken: str | None = None) -> MemoryRecord:
        """Store a turn; durable when this returns."""
        return await asyncio.to_thread(self.store.add_turn, role, text, conversation,
                                       source=self.source, interrupted=interrupted,
                                       spoken=spoken)

    async def remember_question(self, question: str, conversation: str) -> MemoryRecord:
        """Store the user's question (durable when this returns), once: the same question
        still unanswered from a recent failed attempt is moved to this one, not copied."""
        return await asyncio.to_thread(self._store_question, question, conversation)

    def _store_question(self, question: str, conversation: str) -> MemoryRecord:
        from koe.voice.conversation.unanswered import unanswered

        now = time.time()
        recent = self.store.records(since=now - self.retry_seconds, user=self.store.settings.user)
        earlier = unanswered(recent, question)
        if earlier is None:
            return self.store.add_turn("user", question, conversation, source=self.source)
        again = replace(earlier, text=question, conversation=conversation, timestamp=now,
                        source=self.source)
        self.store.add_many([again])  # same id: replaces the earlier copy
        return again

    async def recall(self, question: str, exclude: Collection[str]) -> list[Recalled]:
        """Memories for this question, minus those the prompt already holds."""
        if self.recall_count <= 0:
            return []
        from koe.memory.recall import recall

        extra = min(len(exclude), MAX_EXTRA_RECALL)
        found = await asyncio.to_thread(recall, self.store, question, self.recall_count + extra)
        return [r for r in found if r.record.id not in exclude
                and r.score >= self.min_relevance][: self.recall_count]

    @staticmethod
    def block(items: list[Recalled]) -> str:
        from koe.memory.recall import memory_block

        return memory_block(items)

    async def summarize(self, conversation: str,
                        complete: Callable[[str], str] | None) -> MemoryRecord | None:
        from koe.memory.summary import store_summary

        return await asyncio.to_thread(store_summary, self.store, conversation, complete)

    async def close(self) -> None:
        await asyncio.to_thread(self.store.close)
