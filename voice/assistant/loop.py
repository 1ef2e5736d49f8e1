"""The voice loop: microphone -> echo canceller -> endpointing -> Whisper -> memory + LLM ->
Piper -> speaker.

Speed comes from speculation. At a short pause the loop transcribes what was said, recalls,
starts the model and synthesises the first sentence; if the user speaks again all of it is
dropped (nothing stored), and if the endpoint confirms the pause, the reply is already on its
way and plays at once. While the user is still speaking, the words so far are transcribed now
and then and read ahead by the server (`Conversation.prefill`).

While koe answers, the microphone is heard through the echo canceller by the barge-in rule
(`listen.barge_in`): the user talking over koe stops it at once, and what they say is heard
from its onset as the next question. With barge-in off, the microphone is ignored until koe
has finished (half-duplex). Each answer runs as its own task, so the microphone is read (and
in file mode the clock runs) whatever an answer is doing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import numpy as np

from koe.config.errors import KoeError
from koe.config.schema import Settings
from koe.voice.assistant.answer import Answer
from koe.voice.assistant.clock import Cleaner, MicrophoneClock
from koe.voice.assistant.events import Heard, LoopEvent, Said, StateChanged, TurnDone
from koe.voice.assistant.hearing import Hearing
from koe.voice.assistant.interruption import BargeInListener
from koe.voice.assistant.reply import Reply, ReplyMaker, Splitter, SpokenReply, Synthesizer
from koe.voice.assistant.report import TurnReport
from koe.voice.assistant.speculation import Speculation
from koe.voice.audio.chunks import AudioChunk, AudioSink, AudioSource
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.conversation.conversation import Conversation
from koe.voice.turns.barge_in import BargeIn
from koe.voice.turns.events import SpeechEnded, SpeechPaused, SpeechResumed, SpeechStarted
from koe.voice.turns.segmenter import Segmenter
from koe.voice.turns.wake import ACKNOWLEDGEMENT, WakeGate

# Read ahead (prefill) at most this often while the user speaks, and only after this much.
PREFILL_EVERY_SECONDS = 1.5


class Assistant:
    def __init__(self, settings: Settings, hearing: Hearing, conversation: Conversation,
                 synthesizer: Synthesizer, new_splitter: Callable[[], Splitter],
                 observe: Callable[[LoopEvent], None] = lambda event: None,
                 read_ahead: bool = True, clean: Cleaner | None = None,
                 new_reply: ReplyMaker | None = None) -> None:
        """`read_ahead`: let the server read the question so far while the user speaks;
        `clean`: the echo canceller's near end, applied to every microphone chunk;
        `new_reply`: who answers (a speech-to-speech endpoint); koe's own model and voice
        when None."""
        self.settings = settings
        self.hearing = hearing
        self.conversation = conversation
        self.synthesizer = synthesizer
        self.new_splitter = new_splitter
        self._observer = observe
        self.read_ahead = read_ahead
        self.clean = clean or (lambda chunk: chunk)
        self.new_reply = new_reply or self._spoken_reply
        self.reports: list[TurnReport] = []
        self.segmenter = Segmenter(settings.listen)
        self.gate = WakeGate(settings.run)
        self.barge_in = BargeInListener(settings.listen) if settings.listen.barge_in else None
        self._speaker: AudioSink | None = None
        self.clock = MicrophoneClock()
        self._speculation: Speculation | None = None
        self._answer: Answer | None = None  # while koe answers (until it stops or is cut off)
        self._turn: asyncio.Task[None] | None = None  # the last answer's task
        self._prefill: asyncio.Task[None] | None = None
        self._prefilled_at = 0  # utterance samples read ahead last time
        self._utterance_start = 0.0  # when the utterance being heard began (stream seconds)

    def observe(self, event: LoopEvent) -> None:
        """Tell the observer; what koe says is noted too, so its echo is never a question."""
        if isinstance(event, Said):
            self.gate.said(event.text, event.at)
        self._observer(event)

    def now(self) -> float:
        """Seconds on the input stream's clock: where the microphone is now."""
        return self.clock.now()

    # -- the loop -----------------------------------------------------------------------
    async def run(self, microphone: AudioSource, speaker: AudioSink) -> list[TurnReport]:
        """Converse until the microphone ends (file mode) or the task is cancelled. Called
        again after a device was lost, it starts afresh on the new microphone's clock."""
        self._speaker = speaker
        self._turn = self._answer = None
        self.segmenter.reset(at_sample=0)
        self.observe(StateChanged(0.0, "listening"))
        try:
            async for chunk in self.clock.follow(microphone, speaker, self.clean):
                await self._hear(chunk)
            if self._answer is None:
                for event in self.segmenter.finish():
                    await self._on(event)
            if self._turn is not None:
                await self._turn
        finally:
            await self._drop_speculation()
            if self._turn is not None and not self._turn.done():
                self._turn.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._turn
        return self.reports

    async def _hear(self, chunk: AudioChunk) -> None:
        if self._answer is not None:
            if self._turn is not None and self._turn.done():
                self._answered(chunk.position)
            elif self.barge_in is None:
                return  # half-duplex: koe is answering
            elif (hit := self.barge_in.feed(chunk, self._answer.speaking)) is None:
                return
            else:
                await self._interrupted(hit)
                return
        for event in self.segmenter.feed(chunk.pcm):
            await self._on(event)
        self._maybe_prefill()

    def _answered(self, position: int) -> None:
        self._turn.result()  # an answer's unexpected failure ends the loop, loudly
        self._answer = None
        self.segmenter.reset(at_sample=position)
        self.observe(StateChanged(self.now(), "listening"))

    async def _interrupted(self, hit: BargeIn) -> None:
        """The user talks over koe: stop now, then hear them from their onset."""
        answer, self._answer = self._answer, None
        await answer.interrupt()
        answer.report.barge_in = hit.speech_sample / SAMPLE_RATE
        answer.report.stopped = self.now()
        self.gate.replied(self.now())
        start, audio = self.barge_in.interruption(hit)
        self.segmenter.reset(at_sample=start)
        self.observe(StateChanged(self.now(), "hearing"))
        for event in self.segmenter.feed(audio):
            await self._on(event)

    async def _on(self, event: object) -> None:
        if isinstance(event, SpeechStarted):
            self._prefilled_at = 0
            self._utterance_start = event.start_sample / SAMPLE_RATE
            self.observe(StateChanged(self.now(), "hearing"))
        elif isinstance(event, SpeechPaused):
            await self._drop_speculation()
            self._speculation = self._speculate(event.pcm, event.start_sample, at_pause=True)
        elif isinstance(event, SpeechResumed):
            await self._drop_speculation()
        elif isinstance(event, SpeechEnded):
            speculation = self._speculation or self._speculate(event.pcm, event.start_sample,
                                                               at_pause=False)
            self._speculation = None
            self._begin_answer(event, speculation)

    # -- speculation and read-ahead ----------------------------------------------------
    def _speculate(self, pcm: np.ndarray, start_sample: int, at_pause: bool) -> Speculation:
        previous = self._turn

        async def begin(question: str) -> Reply:
            if previous is not None:  # an interrupted answer first keeps what was heard
                with contextlib.suppress(Exception):
                    await asyncio.shield(previous)
            return self.new_reply(question, pcm)

        return Speculation(self.hearing, pcm, self.gate, start_sample / SAMPLE_RATE, begin,
                           self.now, at_pause)

    def _spoken_reply(self, question: str, pcm: np.ndarray) -> Reply:
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
            admission = self.gate.admit(text, self._utterance_start)
            if admission.admitted and admission.question and self.segmenter.in_speech:
                self.observe(Heard(self.now(), text, final=False))
                self.conversation.prefill(admission.question)

        self._prefill = asyncio.create_task(read_ahead())

    # -- one answer ----------------------------------------------------------------------
    def _begin_answer(self, ended: SpeechEnded, speculation: Speculation) -> None:
        report = TurnReport(speech_start=ended.start_sample / SAMPLE_RATE,
                            speech_end=ended.speech_end_sample / SAMPLE_RATE,
                            endpoint=ended.sample / SAMPLE_RATE,
                            speculative=speculation.at_pause)
        self._answer = Answer(self.conversation, self.synthesizer, self._speaker, report,
                              self.now, self.observe, self.settings.run.speak_errors)
        if self.barge_in is not None:
            self.barge_in.start(self.clock.position)
        self.observe(StateChanged(self.now(), "thinking"))
        self._turn = asyncio.create_task(self._run_answer(self._answer, speculation))

    async def _run_answer(self, answer: Answer, speculation: Speculation) -> None:
        report = answer.report
        reply: Reply | None = None
        try:
            reply = await speculation.result()
            report.transcript = speculation.transcript
            report.transcript_ready = speculation.transcript_ready
            admission = speculation.admission
            if admission is not None and admission.listening:
                await answer.say(ACKNOWLEDGEMENT)  # the wake phrase alone
                self.gate.woken(self.now())
            if reply is None:
                return  # noise, silence, or not meant for koe: no turn, nothing stored
            self.observe(Heard(self.now(), admission.question, final=True))
            await answer.play(reply)
            self.gate.replied(self.now())
        except KoeError as exc:
            report.error = exc.message
            await answer.say_trouble(exc)
        finally:
            if reply is not None or report.error:
                self.reports.append(report)
                self.observe(TurnDone(self.now(), report))
