"""koe's cascade shared by every client of `koe serve`: Whisper, memory, the model, Piper.

Loaded once (`Parts.load`); each connection or request gets its own `Conversation`, whose
turns go to memory with source "realtime", and is summarised when it ends, as `koe run` does.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from koe.config.schema import Settings
from koe.voice.assistant.parts import Parts
from koe.voice.assistant.reply import SpokenReply
from koe.voice.conversation.conversation import Conversation
from koe.voice.conversation.memory_port import ConversationMemory
from koe.voice.conversation.prompt import SYSTEM_PROMPT
from koe.voice.llm.provider import LlmProvider
from koe.voice.tts.chunk import SpokenChunk
from koe.voice.tts.splitter import SentenceSplitter

SOURCE = "realtime"
READY_CHUNKS = 2  # synthesised chunks waiting to be sent; then the model waits


class ReadyChunks(asyncio.Queue):
    """A reply's queue, bounded for its spoken chunks only: a producer with `room` chunks
    waiting pauses (and the model's stream with it) until one is taken, while the closing
    END or a failure always fits, so a producer cancelled while it waits can still close
    the queue."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room
        self._taken = asyncio.Event()

    async def put(self, item: object) -> None:
        while isinstance(item, SpokenChunk) and self.qsize() >= self.room:
            self._taken.clear()
            await self._taken.wait()
        self.put_nowait(item)

    def get_nowait(self) -> object:
        item = super().get_nowait()
        self._taken.set()
        return item


@dataclass
class Cascade:
    settings: Settings
    parts: Parts
    summarize: bool = True
    conversations: set[Conversation] = field(default_factory=set)
    _endings: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    async def load(cls, settings: Settings, *, remember: bool = True,
                   provider: LlmProvider | None = None) -> Cascade:
        parts = await Parts.load(settings, remember=remember, provider=provider)
        return cls(settings, parts, summarize=settings.chat.summarize)

    def conversation(self, track: bool = True) -> Conversation:
        """A new conversation on the shared model and memory store; `track`: summarise it
        when the server stops, if the client has not ended it before (`end`)."""
        memory = None
        if self.parts.memory is not None:
            memory = ConversationMemory(self.parts.memory.store, self.settings.run.memories,
                                        source=SOURCE,
                                        min_relevance=self.settings.run.min_relevance)
        conversation = Conversation(self.parts.conversation.llm, memory,
                                    history_tokens=self.settings.llm.history_tokens)
        if track:
            self.conversations.add(conversation)
        return conversation

    def reply(self, conversation: Conversation, question: str) -> SpokenReply:
        """The spoken reply to `question`, started; at most READY_CHUNKS wait to be sent."""
        loop = asyncio.get_running_loop()
        reply = SpokenReply(conversation, self.parts.synthesizer, SentenceSplitter, loop.time)
        reply.chunks = ReadyChunks(READY_CHUNKS)
        reply.start(question)
        return reply

    def end(self, conversation: Conversation) -> None:
        """The client is gone: summarise its conversation in the background."""
        self.conversations.discard(conversation)
        task = asyncio.create_task(conversation.close(summarize=self.summarize))
        self._endings.add(task)
        task.add_done_callback(self._endings.discard)

    @property
    def summaries_due(self) -> bool:
        """Whether closing will write summaries (which takes the model a while)."""
        return self.summarize and (any(c.summary_due for c in self.conversations)
                                   or any(not task.done() for task in self._endings))

    async def close(self) -> None:
        """Summarise every conversation still open (a cancellation here stores the quick
        summaries), then release the model server and the memory store."""
        try:
            for conversation in list(self.conversations):
                self.end(conversation)
            if self._endings:
                await asyncio.gather(*self._endings, return_exceptions=True)
        finally:
            with contextlib.suppress(Exception):
                await self.parts.close(summarize=False)


def system_prompt(instructions: str) -> str:
    """koe's own system prompt, then the client's instructions."""
    return f"{SYSTEM_PROMPT}\n\n{instructions.strip()}" if instructions.strip() else SYSTEM_PROMPT
