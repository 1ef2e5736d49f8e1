"""One spoken reply on its way out: model deltas -> speakable chunks -> synthesised audio.

A reply can start before the question is final (at a pause in speech): it drafts, streams and
synthesises into a queue, and nothing reaches the speaker or the memory until the loop plays
it. Cancelling it closes the model's stream at once, so the server stops generating.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from koe.config.errors import KoeError
from koe.voice.conversation.conversation import Conversation, Draft
from koe.voice.tts.chunk import SpokenChunk


class Synthesizer(Protocol):
    @property
    def sample_rate(self) -> int: ...

    def speak(self, text: str) -> SpokenChunk: ...


class Splitter(Protocol):
    def feed(self, delta: str) -> list[str]: ...
    def flush(self) -> list[str]: ...


@dataclass(frozen=True)
class ReplyFailed:
    """The reply broke off: `error` says why (it is said aloud, then the loop listens)."""

    error: KoeError


END = None  # closes the queue


class Reply(Protocol):
    """What the loop plays: a draft to confirm, then chunks until END. `SpokenReply` makes
    them with koe's own model and voice; a speech-to-speech endpoint makes them itself."""

    drafted: asyncio.Future[Draft]
    chunks: asyncio.Queue[SpokenChunk | ReplyFailed | None]
    first_token: float | None

    async def cancel(self, played_seconds: float | None = None) -> None:
        """Stop making the reply; `played_seconds`: how much of it the user heard, when it
        was cut off."""


# Starts a reply to `question`, heard in `pcm` (the utterance, 16 kHz int16).
ReplyMaker = Callable[[str, np.ndarray], Reply]


class DraftedReply:
    """The part every producer of a `Reply` shares: a task drafts the turn (memories recalled,
    prompt built), then `_speak`s it onto `chunks`; a failure is queued for the loop to say,
    and END closes the queue whatever happened."""

    def __init__(self, conversation: Conversation, clock: Callable[[], float]) -> None:
        self.conversation = conversation
        self.clock = clock
        # The draft (memories recalled, prompt built) once it exists; the loop confirms it.
        self.drafted: asyncio.Future[Draft] = asyncio.get_running_loop().create_future()
        self.chunks: asyncio.Queue[SpokenChunk | ReplyFailed | None] = asyncio.Queue()
        self.first_token: float | None = None
        self._task: asyncio.Task[None] | None = None

    def _begin(self, question: str) -> None:
        self._task = asyncio.create_task(self._produce(question))

    async def cancel(self, played_seconds: float | None = None) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.drafted.cancel()

    def _token_arrived(self) -> None:
        if self.first_token is None:
            self.first_token = self.clock()

    async def _produce(self, question: str) -> None:
        try:
            draft = await self.conversation.draft(question)
            self.drafted.set_result(draft)
            await self._speak(draft)
        except KoeError as exc:
            if not self.drafted.done():
                self.drafted.set_exception(exc)
            await self.chunks.put(ReplyFailed(exc))
        finally:
            await self.chunks.put(END)

    async def _speak(self, draft: Draft) -> None:
        raise NotImplementedError


class SpokenReply(DraftedReply):
    """koe's own reply: the model's deltas, cut into sentences, spoken by Piper."""

    def __init__(self, conversation: Conversation, synthesizer: Synthesizer,
                 new_splitter: Callable[[], Splitter], clock: Callable[[], float]) -> None:
        super().__init__(conversation, clock)
        self.synthesizer = synthesizer
        self.new_splitter = new_splitter
        self.first_audio_ready: float | None = None

    def start(self, question: str) -> None:
        self._begin(question)

    async def _speak(self, draft: Draft) -> None:
        splitter = self.new_splitter()
        async for delta in self.conversation.stream_draft(draft):
            self._token_arrived()
            for text in splitter.feed(delta):
                await self._synthesize(text)
        for text in splitter.flush():
            await self._synthesize(text)

    async def _synthesize(self, text: str) -> None:
        chunk = await asyncio.to_thread(self.synthesizer.speak, text)
        if self.first_audio_ready is None:
            self.first_audio_ready = self.clock()
        if chunk.samples:
            await self.chunks.put(chunk)
