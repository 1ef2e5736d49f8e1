"""Reading the question ahead while the user still speaks, as `koe run` does.

Now and then (every `PREFILL_EVERY_SECONDS` of speech) the words so far are transcribed and
the model server reads the likely prompt, memories included (`Conversation.prefill`), so that
at the end of the question only its last words are new to the server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from koe.voice.assistant.hearing import Hearing
from koe.voice.assistant.loop import PREFILL_EVERY_SECONDS
from koe.voice.conversation.conversation import Conversation
from koe.voice.turns.pcm import SAMPLE_RATE
from koe.voice.turns.segmenter import Segmenter


class ReadAhead:
    def __init__(self, hearing: Hearing, conversation: Conversation) -> None:
        self.hearing = hearing
        self.conversation = conversation
        self._task: asyncio.Task[None] | None = None
        self._read = 0  # utterance samples read ahead last time

    def started(self) -> None:
        """A new utterance began."""
        self._read = 0

    def heard(self, segmenter: Segmenter, before: Callable[[], str]) -> None:
        """More of the utterance was heard; `before()`: earlier words still unanswered."""
        if not segmenter.in_speech or self.hearing.busy:
            return
        if self._task is not None and not self._task.done():
            return
        so_far = segmenter.utterance_so_far()
        if so_far.size - self._read < PREFILL_EVERY_SECONDS * SAMPLE_RATE:
            return
        self._read = so_far.size

        async def read_ahead() -> None:
            text = await self.hearing.transcribe(so_far)
            if text.strip() and segmenter.in_speech:
                self.conversation.prefill(f"{before()} {text}".strip())

        self._task = asyncio.create_task(read_ahead())

    async def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
