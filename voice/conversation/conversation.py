"""A conversation: each question is stored, memories are recalled, the reply is streamed.

The user's turn is stored before the model is asked, so an unreachable endpoint or a crash
loses nothing the user said; the next turn works as soon as the endpoint is back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from koe.config.errors import KoeError
from koe.voice.conversation.memory_port import ConversationMemory
from koe.voice.conversation.prompt import ConversationPrompt, PendingTurn
from koe.voice.conversation.summarizer import SummaryWriter
from koe.voice.llm.client import ChatClient
from koe.voice.llm.errors import ReplyCut
from koe.voice.llm.provider import LlmProvider
from koe.voice.llm.types import Message, ReplyStats

if TYPE_CHECKING:
    from koe.memory.recall import Recalled


@dataclass
class TurnOutcome:
    """What happened in one turn, for the caller, logs and the benchmark."""

    question: str
    reply: str = ""
    interrupted: bool = False
    cut: bool = False  # the model would not stop and was cut off: nothing of it is kept
    memories_quoted: int = 0
    stats: ReplyStats = field(default_factory=ReplyStats)


@dataclass
class Draft:
    """A reply prepared before the question is final: memories recalled, prompt built, and
    nothing stored. The voice loop drafts at a pause in speech; `confirm` stores the question
    once the endpoint confirms it, and an unconfirmed draft is simply dropped."""

    outcome: TurnOutcome
    pending: PendingTurn
    memories: tuple[str, ...] = ()  # the texts quoted to the model
    record_ids: list[str] = field(default_factory=list)
    confirmed: bool = False


class Conversation:
    def __init__(self, provider: LlmProvider, memory: ConversationMemory | None = None, *,
                 history_tokens: int = 1500, conversation_id: str | None = None) -> None:
        self.llm = provider
        self.memory = memory
        self.id = conversation_id or uuid.uuid4().hex
        self.prompt = ConversationPrompt(history_tokens=history_tokens)
        self.turns: list[TurnOutcome] = []
        self.summarized = False  # `close` stored the summary
        self._prefill: asyncio.Task[None] | None = None

    async def warm_up(self) -> None:
        """Have the server read the system prompt now, so the first question finds it cached
        (only worth it for the local server: a remote one would bill for it)."""
        if self.llm.server is not None:
            client = await self.llm.client()
            await client.complete([self.prompt.system_message(), Message("user", "")],
                                  max_tokens=1)

    def prefill(self, partial_question: str) -> asyncio.Task[None]:
        """Have the server read the likely prompt ahead, while the user is still speaking:
        recall for the words so far, and send that prompt for one token. When the final
        question starts the same way and recalls the same memories, only its last words are
        new to the server. The next `ask` cancels a prefill still running."""
        self._cancel_prefill()
        self._prefill = asyncio.create_task(self._read_ahead(partial_question))
        return self._prefill

    async def _read_ahead(self, partial_question: str) -> None:
        quoted = await self._recall(partial_question, exclude=self.prompt.known_ids())
        block = self.memory.block(quoted) if self.memory and quoted else ""
        messages = self.prompt.prepare(partial_question, block).messages
        try:
            client = await self.llm.client()
            await client.complete(messages, max_tokens=1)
        except KoeError:
            pass  # only a head start: the real turn reports what is wrong

    def _cancel_prefill(self) -> None:
        if self._prefill is not None and not self._prefill.done():
            self._prefill.cancel()  # closes its HTTP stream: the server stops reading it

    async def ask(self, question: str) -> AsyncIterator[str]:
        """Stream the reply to `question`. Closing the iterator early (or cancelling the task
        reading it) stops the model at once and keeps what was said so far, marked interrupted.
        """
        self._cancel_prefill()
        outcome = TurnOutcome(question)
        self.turns.append(outcome)
        record_ids = []
        if self.memory:
            record_ids.append((await self.memory.remember_question(question, self.id)).id)
        quoted = await self._recall(question, exclude={*self.prompt.known_ids(), *record_ids})
        outcome.memories_quoted = len(quoted)
        block = self.memory.block(quoted) if self.memory and quoted else ""
        pending = self.prompt.prepare(question, block, (r.record.id for r in quoted))

        client = await self.llm.client()
        reply = client.stream(pending.messages)
        outcome.stats = reply.stats
        parts: list[str] = []
        finished = False
        try:
            async for delta in reply:
                parts.append(delta)
                yield delta
            finished = True
        except ReplyCut:
            outcome.cut = True  # a runaway reply is said to be one, and not remembered
            raise
        finally:
            await reply.aclose()
            outcome.reply = "".join(parts)
            outcome.interrupted = not finished
            # A failed turn leaves no half-answer in the prompt, a runaway one nothing at all.
            if (finished or parts) and not outcome.cut:
                await self._keep(pending, outcome, record_ids)

    async def draft(self, question: str) -> Draft:
        """Recall and build the prompt for `question`; stores nothing."""
        self._cancel_prefill()
        outcome = TurnOutcome(question)
        quoted = await self._recall(question, exclude=self.prompt.known_ids())
        outcome.memories_quoted = len(quoted)
        block = self.memory.block(quoted) if self.memory and quoted else ""
        pending = self.prompt.prepare(question, block, (r.record.id for r in quoted))
        return Draft(outcome, pending, tuple(r.text for r in quoted))

    async def stream_draft(self, draft: Draft) -> AsyncIterator[str]:
        """Stream the reply to a draft; it may start before the draft is confirmed, and closing
        it early stops the model at once. `finish_draft` keeps the reply afterwards."""
        client = await self.llm.client()
        reply = client.stream(draft.pending.messages)
        draft.outcome.stats = reply.stats
        try:
            async for delta in reply:
                draft.outcome.reply += delta
                yield delta
        except ReplyCut:
            draft.outcome.cut = True
            raise
        finally:
            await reply.aclose()

    async def confirm(self, draft: Draft) -> None:
        """The question is final: store it (durable when this returns)."""
        if draft.confirmed:
            return
        draft.confirmed = True
        self.turns.append(draft.outcome)
        if self.memory:
            record = await self.memory.remember_question(draft.outcome.question, self.id)
            draft.record_ids.append(record.id)

    async def finish_draft(self, draft: Draft, spoken: str | None = None,
                           interrupted: bool = False) -> None:
        """Keep a confirmed draft's reply: in memory (with what was actually `spoken` when the
        reply was cut short) and in the prompt history, which holds what the user heard."""
        if not draft.confirmed or draft.outcome.cut:
            return
        outcome = draft.outcome
        outcome.interrupted = interrupted
        heard = outcome.reply if spoken is None else spoken
        if self.memory and outcome.reply:
            record = await asyncio.shield(self.memory.remember(
                "assistant", outcome.reply, self.id, interrupted=interrupted,
                spoken=spoken if interrupted else None))
            draft.record_ids.append(record.id)
        if heard or not interrupted:
            self.prompt.finish(draft.pending, heard, draft.record_ids)

    async def reply_to(self, question: str, on_delta: Callable[[str], None] | None = None) -> str:
        """The whole reply (deltas go to `on_delta` as they arrive)."""
        stream = self.ask(question)
        try:
            async for delta in stream:
                if on_delta:
                    on_delta(delta)
        finally:
            await stream.aclose()
        return self.turns[-1].reply

    @property
    def summary_due(self) -> bool:
        """Whether `close` writes a summary: only of a real exchange, with memory on."""
        return self.memory is not None and sum(t.reply != "" for t in self.turns) >= 2

    async def close(self, summarize: bool = True) -> None:
        """End the conversation: summarize it into memory (a real exchange only). The model
        writes the summary; cancelled while it does (a second Ctrl-C), the extractive summary,
        which takes no time, is stored instead and the cancellation goes on."""
        if not (summarize and self.summary_due and self.memory):
            return
        writer = SummaryWriter(asyncio.get_running_loop(), self._client_or_none)
        job = asyncio.ensure_future(self.memory.summarize(self.id, writer.complete))
        try:
            await asyncio.shield(job)
        except asyncio.CancelledError:
            writer.skip()
            await job
            raise
        finally:
            self.summarized = job.done() and not job.cancelled() and job.exception() is None

    async def _recall(self, question: str, exclude: set[str]) -> list[Recalled]:
        return await self.memory.recall(question, exclude) if self.memory else []

    async def _keep(self, pending: PendingTurn, outcome: TurnOutcome,
                    record_ids: list[str]) -> None:
        if self.memory and outcome.reply:
            record = await asyncio.shield(self.memory.remember(
                "assistant", outcome.reply, self.id, interrupted=outcome.interrupted))
            record_ids.append(record.id)
        self.prompt.finish(pending, outcome.reply, record_ids)

    async def _client_or_none(self) -> ChatClient | None:
        try:
            return await self.llm.client()
        except KoeError:  # the extractive summary needs no model
            return None
