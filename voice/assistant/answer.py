"""One answer, from the confirmed question to the last sample played (or the interruption).

The question is stored before anything is played; the reply is kept as it was heard: the
whole of it, or, when the user barged in, the words that reached the speaker, marked
interrupted, so that the next prompt holds what the user actually heard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from koe.config.errors import KoeError
from koe.voice.assistant.events import LoopEvent, Said, StateChanged, Trouble
from koe.voice.assistant.reply import Reply, ReplyFailed, Synthesizer
from koe.voice.assistant.report import TurnReport
from koe.voice.audio.chunks import AudioSink, Played
from koe.voice.conversation.conversation import Conversation
from koe.voice.tts.chunk import SpokenChunk
from koe.voice.tts.speakable import speakable


class Answer:
    def __init__(self, conversation: Conversation, synthesizer: Synthesizer, speaker: AudioSink,
                 report: TurnReport, clock: Callable[[], float],
                 observe: Callable[[LoopEvent], None], speak_errors: bool) -> None:
        self.conversation = conversation
        self.report = report
        self.synthesizer = synthesizer
        self.speaker = speaker
        self.clock = clock
        self.observe = observe
        self.speak_errors = speak_errors
        self.interrupted = False
        self.speaking = False  # the first sample has been played and the last has not
        self._reply: Reply | None = None
        self._played: list[asyncio.Future[Played]] = []

    async def interrupt(self) -> None:
        """The user talks over koe: stop the sound now, and the reply's model stream and
        synthesis with it."""
        self.interrupted = True
        await self.speaker.stop()
        if self._reply is not None:
            heard = sum(f.result().seconds for f in self._played if f.done())
            await self._reply.cancel(heard)

    async def play(self, reply: Reply) -> None:
        report = self.report
        self._reply = reply
        try:
            draft = await reply.drafted
            await self.conversation.confirm(draft)  # the question is stored before we answer
            report.memories = list(draft.memories)
            played = self._played
            failure: KoeError | None = None
            while not self.interrupted and (item := await reply.chunks.get()) is not None:
                if isinstance(item, ReplyFailed):
                    failure = item.error
                elif not self.interrupted:
                    played.append(self._start(item, report))
            await self.speaker.drained()
            self.speaking = False
            heard = [await f for f in played]
            report.first_token = reply.first_token
            report.reply = draft.outcome.reply
            report.prompt_tokens = draft.outcome.stats.prompt_tokens
            report.cached_tokens = draft.outcome.stats.cached_tokens
            report.spoken = " ".join(filter(None, (p.tag.heard(p.seconds) for p in heard)))
            report.interrupted = self.interrupted or any(not p.complete for p in heard)
            await self.conversation.finish_draft(draft, spoken=report.spoken,
                                                 interrupted=report.interrupted or bool(failure))
            if failure is not None:
                raise failure
        finally:
            self.speaking = False
            await reply.cancel()

    def _start(self, chunk: SpokenChunk, report: TurnReport) -> asyncio.Future[Played]:
        if report.first_audio is None:
            report.first_audio = self.clock()
            self.speaking = True
            self.observe(StateChanged(report.first_audio, "speaking"))
        if chunk.text:  # an endpoint's audio may come in pieces without words of their own
            self.observe(Said(self.clock(), chunk.text))
        return self.speaker.play(chunk.pcm, chunk.sample_rate, tag=chunk)

    async def say(self, text: str) -> None:
        """A short sentence of koe's own ("Yes?"), not part of any conversation turn."""
        with contextlib.suppress(KoeError):
            said = await asyncio.to_thread(self.synthesizer.speak, speakable(text))
            self.speaking = True
            self.speaker.play(said.pcm, said.sample_rate, tag=said)
            await self.speaker.drained()
        self.speaking = False

    async def say_trouble(self, error: KoeError) -> None:
        """One sentence, printed and (by default) spoken; then the loop listens again."""
        self.observe(Trouble(self.clock(), error.message, error.hint))
        if self.speak_errors:
            await self.say(error.message)
