"""The voice loop: microphone -> endpointing -> Whisper -> memory + LLM -> Piper -> speaker.

Speed comes from speculation. At a short pause the loop transcribes what was said, recalls,
starts the model and synthesises the first sentence; if the user speaks again all of it is
dropped (nothing stored), and if the endpoint confirms the pause, the reply is already on its
way and plays at once. While the user is still speaking, the words so far are transcribed now
and then and read ahead by the server (`Conversation.prefill`).

Half-duplex: from the endpoint until the reply has been played the microphone is ignored.
Each turn runs as its own task, so the microphone is read (and in file mode the clock runs)
whatever a turn is doing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import numpy as np

from koe.config.errors import KoeError
from koe.config.schema import Settings
from koe.voice.assistant.events import Heard, LoopEvent, Said, StateChanged, Trouble, TurnDone
from koe.voice.assistant.hearing import Hearing
from koe.voice.assistant.reply import ReplyFailed, Splitter, SpokenReply, Synthesizer
from koe.voice.assistant.report import TurnReport
from koe.voice.audio.chunks import AudioSink, AudioSource, Played
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.conversation.conversation import Conversation
from koe.voice.tts.chunk import SpokenChunk
from koe.voice.tts.speakable import speakable
from koe.voice.turns.events import SpeechEnded, SpeechPaused, SpeechResumed, SpeechStarted
from koe.voice.turns.segmenter import Segmenter

# Read ahead (prefill) at most this often while the user speaks, and only after this much.
PREFILL_EVERY_SECONDS = 1.5


class Speculation:
    """Work begun on an utterance before the turn is certainly over: its transcript, then the
    reply. Cancelling it drops both, and nothing of it was stored."""

    def __init__(self, hearing: Hearing, pcm: np.ndarray, begin: Callable[[str], SpokenReply],
                 clock: Callable[[], float], at_pause: bool) -> None:
        self.at_pause = at_pause
        self.transcript_ready: float | None = None
        self._clock = clock
        self.task = asyncio.create_task(self._work(hearing, pcm, begin))

    async def _work(self, hearing: Hearing, pcm: np.ndarray,
                    begin: Callable[[str], SpokenReply]) -> tuple[str, SpokenReply | None]:
        text = await hearing.transcribe(pcm)
        self.transcript_ready = self._clock()
        return text, (begin(text) if text else None)

    async def cancel(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            _, reply = await self.task
            if reply is not None:
                await reply.cancel()


class Assistant:
    def __init__(self, settings: Settings, hearing: Hearing, conversation: Conversation,
                 synthesizer: Synthesizer, new_splitter: Callable[[], Splitter],
                 observe: Callable[[LoopEvent], None] = lambda event: None,
                 read_ahead: bool = True) -> None:
        """`read_ahead`: let the server read the question so far while the user speaks."""
        self.settings = settings
        self.read_ahead = read_ahead
        self.hearing = hearing
        self.conversation = conversation
        self.synthesizer = synthesizer
        self.new_splitter = new_splitter
        self.observe = observe
        self.reports: list[TurnReport] = []
        self.segmenter = Segmenter(settings.listen)
        self._speaker: AudioSink | None = None
        self._position = 0  # stream samples received so far
        self._received_at = 0.0  # loop time when they were
        self._speculation: Speculation | None = None
        self._turn: asyncio.Task[None] | None = None
        self._prefill: asyncio.Task[None] | None = None
        self._prefilled_at = 0  # utterance samples read ahead last time

    # -- the clock ----------------------------------------------------------------------
    def now(self) -> float:
        """Seconds on the input stream's clock: where the microphone is now."""
        since = asyncio.get_running_loop().time() - self._received_at
        return self._position / SAMPLE_RATE + max(0.0, since)

    # -- the loop -----------------------------------------------------------------------
    async def run(self, microphone: AudioSource, speaker: AudioSink) -> list[TurnReport]:
        """Converse until the microphone ends (file mode) or the task is cancelled. Called
        again after a device was lost, it starts afresh on the new microphone's clock."""
        self._speaker = speaker
        self._turn = None
        self._position = 0
        self.segmenter.reset(at_sample=0)
        self.observe(StateChanged(0.0, "listening"))
        try:
            async for chunk in microphone.chunks():
                self._position = chunk.end
                self._received_at = asyncio.get_running_loop().time()
                speaker.sync(chunk.end)
                if self._turn is not None:
                    if not self._turn.done():
                        continue  # half-duplex: koe is answering
                    self._end_turn(chunk.position)
                for event in self.segmenter.feed(chunk.pcm):
                    await self._on(event)
                self._maybe_prefill()
            if self._turn is None:
                for event in self.segmenter.finish():
                    await self._on(event)
            if self._turn is not None:
                await self._turn
                self._turn.result()
        finally:
            await self._drop_speculation()
            if self._turn is not None and not self._turn.done():
                self._turn.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._turn
        return self.reports

    def _end_turn(self, position: int) -> None:
        self._turn.result()  # a turn's unexpected failure ends the loop, loudly
        self._turn = None
        self.segmenter.reset(at_sample=position)
        self.observe(StateChanged(self.now(), "listening"))

    async def _on(self, event: object) -> None:
        if isinstance(event, SpeechStarted):
            self._prefilled_at = 0
            self.observe(StateChanged(self.now(), "hearing"))
        elif isinstance(event, SpeechPaused):
            await self._drop_speculation()
            self._speculation = self._speculate(event.pcm, at_pause=True)
        elif isinstance(event, SpeechResumed):
            await self._drop_speculation()
        elif isinstance(event, SpeechEnded):
            speculation = self._speculation or self._speculate(event.pcm, at_pause=False)
            self._speculation = None
            self.observe(StateChanged(self.now(), "thinking"))
            self._turn = asyncio.create_task(self._answer(event, speculation))

    # -- speculation and read-ahead ----------------------------------------------------
    def _speculate(self, pcm: np.ndarray, at_pause: bool) -> Speculation:
        return Speculation(self.hearing, pcm, self._begin_reply, self.now, at_pause)

    def _begin_reply(self, question: str) -> SpokenReply:
        reply = SpokenReply(self.conversation, self.synthesizer, self.new_splitter, self.now)
        reply.start(question)
        return reply

    async def _drop_speculation(self) -> None:
        if self._speculation is not None:
            await self._speculation.cancel()
            self._speculation = None

    def _maybe_prefill(self) -> None:
        """Now and then while the user speaks, let the server read the question so far."""
        if not self.read_ahead or not self.segmenter.in_speech or self._speculation is not None:
            return
        if self.hearing.busy or (self._prefill is not None and not self._prefill.done()):
            return
        so_far = self.segmenter.utterance_so_far()
        if so_far.size - self._prefilled_at < PREFILL_EVERY_SECONDS * SAMPLE_RATE:
            return
        self._prefilled_at = so_far.size

        async def read_ahead() -> None:
            text = await self.hearing.transcribe(so_far)
            if text and self.segmenter.in_speech:
                self.observe(Heard(self.now(), text, final=False))
                self.conversation.prefill(text)

        self._prefill = asyncio.create_task(read_ahead())

    # -- one turn ------------------------------------------------------------------------
    async def _answer(self, ended: SpeechEnded, speculation: Speculation) -> None:
        report = TurnReport(speech_start=ended.start_sample / SAMPLE_RATE,
                            speech_end=ended.speech_end_sample / SAMPLE_RATE,
                            endpoint=ended.sample / SAMPLE_RATE)
        try:
            report.speculative = speculation.at_pause
            text, reply = await speculation.task
            report.transcript = text
            report.transcript_ready = speculation.transcript_ready
            if reply is None:
                return  # noise or silence: no words, no turn
            self.observe(Heard(self.now(), text, final=True))
            await self._speak(reply, report)
        except KoeError as exc:
            report.error = exc.message
            await self._say_trouble(exc)
        finally:
            if report.transcript:
                self.reports.append(report)
                self.observe(TurnDone(self.now(), report))

    async def _speak(self, reply: SpokenReply, report: TurnReport) -> None:
        try:
            draft = await reply.drafted
            await self.conversation.confirm(draft)  # the question is stored before we answer
            report.memories = list(draft.memories)
            played: list[asyncio.Future[Played]] = []
            failure: KoeError | None = None
            while (item := await reply.chunks.get()) is not None:
                if isinstance(item, ReplyFailed):
                    failure = item.error
                    continue
                played.append(self._play(item, report))
            await self._speaker.drained()
            report.first_token = reply.first_token
            report.reply = draft.outcome.reply
            report.prompt_tokens = draft.outcome.stats.prompt_tokens
            report.cached_tokens = draft.outcome.stats.cached_tokens
            heard = [(await f) for f in played]
            report.spoken = " ".join(filter(None, (p.tag.heard(p.seconds) for p in heard)))
            interrupted = failure is not None or any(not p.complete for p in heard)
            await self.conversation.finish_draft(draft, spoken=report.spoken,
                                                 interrupted=interrupted)
            if failure is not None:
                raise failure
        finally:
            await reply.cancel()

    def _play(self, chunk: SpokenChunk, report: TurnReport) -> asyncio.Future[Played]:
        if report.first_audio is None:
            report.first_audio = self.now()
            self.observe(StateChanged(report.first_audio, "speaking"))
        self.observe(Said(self.now(), chunk.text))
        return self._speaker.play(chunk.pcm, chunk.sample_rate, tag=chunk)

    async def _say_trouble(self, error: KoeError) -> None:
        """One sentence, printed and (by default) spoken; then the loop listens again."""
        self.observe(Trouble(self.now(), error.message, error.hint))
        if not self.settings.run.speak_errors:
            return
        with contextlib.suppress(KoeError):
            said = await asyncio.to_thread(self.synthesizer.speak, speakable(error.message))
            self._speaker.play(said.pcm, said.sample_rate, tag=said)
            await self._speaker.drained()
