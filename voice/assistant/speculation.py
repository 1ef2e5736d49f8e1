"""Work begun on an utterance before the turn is certainly over: its transcript, whether it is
meant for koe (the wake phrase), then the reply. Cancelling it drops all of it, and nothing of
it was stored."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import numpy as np

from koe.voice.assistant.hearing import Hearing
from koe.voice.assistant.reply import Reply
from koe.voice.turns.wake import Admission, WakeGate


class Speculation:
    def __init__(self, hearing: Hearing, pcm: np.ndarray, gate: WakeGate, spoken_at: float,
                 begin: Callable[[str], Awaitable[Reply]], clock: Callable[[], float],
                 at_pause: bool) -> None:
        """`spoken_at`: when the utterance began (the wake gate's follow-up window counts
        from there); `begin(question)` starts the reply."""
        self.at_pause = at_pause
        self.transcript = ""
        self.transcript_ready: float | None = None
        self.admission: Admission | None = None
        self._clock = clock
        self.task = asyncio.create_task(self._work(hearing, pcm, gate, spoken_at, begin))

    async def _work(self, hearing: Hearing, pcm: np.ndarray, gate: WakeGate, spoken_at: float,
                    begin: Callable[[str], Awaitable[Reply]]) -> Reply | None:
        self.transcript = await hearing.transcribe(pcm)
        self.transcript_ready = self._clock()
        self.admission = gate.admit(self.transcript, spoken_at)
        if not self.admission.admitted or self.admission.listening:
            return None
        return await begin(self.admission.question)

    async def result(self) -> Reply | None:
        return await self.task

    async def cancel(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            reply = await self.task
            if reply is not None:
                await reply.cancel()
