"""One answer on a Realtime session: the endpoint's audio as it is played, its transcript,
and the turn kept as heard (all of it, or up to the barge-in, marked interrupted)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from koe.config.errors import KoeError
from koe.voice.assistant.report import TurnReport
from koe.voice.audio.chunks import Played
from koe.voice.conversation.conversation import Draft
from koe.voice.realtime.events import RATE
from koe.voice.s2s.streamed import Script, StreamedChunk


@dataclass
class RealtimeTurn:
    draft: Draft
    report: TurnReport
    script: Script = field(default_factory=Script)
    played: list[asyncio.Future[Played]] = field(default_factory=list)
    response_id: str | None = None
    item_id: str | None = None  # the assistant's audio item: what truncate names
    new_text: str = ""  # transcript not yet shown with a piece of audio
    answered: bool = False  # response.done came
    interrupted: bool = False
    closed: bool = False
    progress: asyncio.Event = field(default_factory=asyncio.Event)  # something arrived
    earlier: set[str] = field(default_factory=set)  # responses of earlier turns

    def owns(self, event: dict) -> bool:
        """Whether a response event is about this turn's response, not what is left of an
        earlier one (cancelled, its last events still on their way)."""
        owner = event.get("response_id") or (event.get("response") or {}).get("id")
        if owner is None:
            return True
        if self.response_id is None:
            return owner not in self.earlier
        return owner == self.response_id

    @property
    def speaking(self) -> bool:
        return bool(self.played) and not all(f.done() for f in self.played)

    def add_text(self, text: str) -> None:
        self.script.text += text
        self.draft.outcome.reply += text
        self.new_text += text
        self.progress.set()

    def next_chunk(self, pcm: np.ndarray) -> StreamedChunk:
        """A piece of audio to play, carrying the transcript that came with it."""
        chunk = StreamedChunk(self.new_text, pcm, RATE, self.script, self.script.samples)
        self.script.samples += pcm.size
        self.new_text = ""
        self.progress.set()
        return chunk

    def played_ms(self) -> int:
        """Milliseconds of the reply's audio that reached the speaker (for truncate)."""
        samples = sum(f.result().played for f in self.played if f.done())
        return samples * 1000 // RATE

    def heard(self) -> tuple[str, bool]:
        """What the user heard of the reply, and whether it was cut short."""
        done = [f.result() for f in self.played if f.done()]
        spoken = " ".join(filter(None, (p.tag.heard(p.seconds) for p in done)))
        cut = (self.interrupted or not self.answered or len(done) < len(self.played)
               or any(not p.complete for p in done))
        return spoken, cut

    def conclude(self, error: KoeError | None) -> bool:
        """Fill the report with what was heard; whether the reply is kept as cut short."""
        report = self.report
        report.spoken, cut = self.heard()
        report.reply = self.draft.outcome.reply
        report.interrupted = self.interrupted or (cut and error is None)
        if error is not None:
            report.error = error.message
        return cut or error is not None

    async def watch(self, seconds: float,
                    stalled: Callable[[RealtimeTurn], Awaitable[None]]) -> None:
        """Every reply runs against a deadline: the first piece, then each next one."""
        while not self.closed and not self.answered:
            self.progress.clear()
            try:
                await asyncio.wait_for(self.progress.wait(), seconds)
            except TimeoutError:
                if not self.closed and not self.answered:
                    await stalled(self)
                return
