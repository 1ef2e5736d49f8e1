"""Everything the loop needs, loaded at once and warmed up, so the first question is fast.

Whisper, Piper, the memory store and the language model server load in parallel (each mostly
waits on disk or on its own process); then each is run once, and the server reads the system
prompt so that it sits in its cache before anyone speaks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np

from koe.config.schema import Settings
from koe.voice.assistant.hearing import Hearing
from koe.voice.conversation.conversation import Conversation
from koe.voice.conversation.ending import release
from koe.voice.conversation.memory_port import ConversationMemory
from koe.voice.llm.provider import LlmProvider
from koe.voice.tts.synthesizer import PiperSynthesizer


@dataclass
class Parts:
    hearing: Hearing
    synthesizer: PiperSynthesizer
    conversation: Conversation
    memory: ConversationMemory | None

    @classmethod
    async def load(cls, settings: Settings, *, remember: bool = True,
                   provider: LlmProvider | None = None) -> Parts:
        """Load and warm up every part; `provider` shares a running LLM (tests, benchmarks)."""
        from koe.voice.stt.transcriber import Transcriber

        provider = provider or LlmProvider(settings.llm)
        loading = [asyncio.to_thread(Transcriber.load, settings.stt),
                   asyncio.to_thread(PiperSynthesizer.load, settings.tts),
                   _open_memory(settings) if remember else _nothing()]
        if provider.server is not None:
            loading.append(asyncio.to_thread(provider.server.ensure_running))
        try:
            transcriber, synthesizer, memory, *_ = await asyncio.gather(*loading)
        except BaseException:
            await provider.aclose()
            raise
        conversation = Conversation(provider, memory, history_tokens=settings.llm.history_tokens)
        parts = cls(Hearing(transcriber), synthesizer, conversation, memory)
        try:
            await parts.warm_up()
        except BaseException:
            await parts.close(summarize=False)
            raise
        return parts

    async def warm_up(self) -> None:
        silence = np.zeros(16000, dtype=np.int16)
        await asyncio.gather(self.hearing.transcribe(silence),
                             asyncio.to_thread(self.synthesizer.warm_up),
                             self.conversation.warm_up())

    async def close(self, summarize: bool = True) -> None:
        """End the conversation (its summary goes to memory), stop the server, close memory."""
        try:
            await self.conversation.close(summarize=summarize)
        finally:
            await release(self.conversation)


async def _open_memory(settings: Settings) -> ConversationMemory:
    from koe.memory.store import MemoryStore

    store = await asyncio.to_thread(MemoryStore.open, settings.memory)
    return ConversationMemory(store, settings.run.memories, source="voice",
                              min_relevance=settings.run.min_relevance)


async def _nothing() -> None:
    return None
