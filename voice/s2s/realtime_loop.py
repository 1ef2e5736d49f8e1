"""The voice loop on a Realtime endpoint with server VAD: the endpoint hears when the user
stops, transcribes, and speaks; koe keeps memory and barge-in.

The echo-cancelled microphone streams to the endpoint (resampled to 24 kHz) while koe listens.
When the user's words are transcribed koe recalls for them, stores them, puts the memory block
into the session's instructions and asks for a response (`create_response` is off, so the
endpoint never answers before koe has recalled). The audio deltas play as they arrive.

While koe answers, the microphone goes to koe's own barge-in rule instead, as in the cascade,
so that koe's echo never reaches the endpoint as speech: when the user talks over koe,
playback stops at once, the response is cancelled and the endpoint's copy of it truncated to
the milliseconds actually played, and the user's speech from its onset streams on as the next
question. The reply is stored as heard, marked interrupted. A dropped connection is said in
one sentence; koe reconnects and goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np

from koe.config.errors import KoeError
from koe.config.schema import Settings
from koe.voice.assistant.answer import Answer
from koe.voice.assistant.clock import Cleaner, MicrophoneClock
from koe.voice.assistant.events import Heard, LoopEvent, Said, StateChanged, TurnDone
from koe.voice.assistant.interruption import BargeInListener
from koe.voice.assistant.reply import Synthesizer
from koe.voice.assistant.report import TurnReport
from koe.voice.audio.chunks import AudioChunk, AudioSink, AudioSource
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.conversation.conversation import Conversation
from koe.voice.realtime.events import ProtocolError, SessionConfig, decode_audio
from koe.voice.s2s.endpoint import S2sEndpoint
from koe.voice.s2s.errors import S2sError, S2sRefused, S2sTimeout, S2sWrongProtocol
from koe.voice.s2s.realtime_connection import (
    RealtimeConnection,
    cancel_too_late,
    error_text,
    failure_text,
)
from koe.voice.s2s.realtime_turn import RealtimeTurn
from koe.voice.s2s.streamed import memory_block_of
from koe.voice.s2s.uplink import Uplink
from koe.voice.turns.wake import WakeGate

RECONNECT_SECONDS = 2.0  # between attempts to reach a lost endpoint


class RealtimeAssistant:
    def __init__(self, settings: Settings, endpoint: S2sEndpoint, conversation: Conversation,
                 synthesizer: Synthesizer | None = None,
                 observe: Callable[[LoopEvent], None] = lambda event: None,
                 clean: Cleaner | None = None) -> None:
        """`synthesizer`: koe's own voice, to say trouble aloud (run.speak_errors)."""
        self.settings = settings
        self.endpoint = endpoint
        self.conversation = conversation
        self.synthesizer = synthesizer
        self.observe = observe
        self.clean = clean or (lambda chunk: chunk)
        self.reports: list[TurnReport] = []
        self.gate = WakeGate(settings.run)
        self.barge_in = BargeInListener(settings.listen) if settings.listen.barge_in else None
        self._conn: RealtimeConnection | None = None
        self._speaker: AudioSink | None = None
        self._turn: RealtimeTurn | None = None
        self._hearing = False  # the endpoint heard speech that has not been answered yet
        self._speech = (0.0, 0.0, 0.0)  # start, end, endpoint of the last utterance
        self._uplink = Uplink()  # the microphone to the endpoint, and the endpoint's times
        self.clock = MicrophoneClock()
        self._tasks: set[asyncio.Task[None]] = set()  # a turn's watch and its ending
        self._responses: set[str] = set()  # ids of responses already answered or cancelled

    def now(self) -> float:
        """Seconds on the input stream's clock: where the microphone is now."""
        return self.clock.now()

    @property
    def instructions(self) -> str:
        return self.conversation.prompt.system_message().content

    # -- the loop -----------------------------------------------------------------------
    async def run(self, microphone: AudioSource, speaker: AudioSink) -> list[TurnReport]:
        """Converse until the microphone ends or the task is cancelled; an endpoint that
        cannot be reached at the start is an S2sError."""
        self._speaker = speaker
        self._conn = await self._connect()
        reader = asyncio.create_task(self._read())
        self.observe(StateChanged(0.0, "listening"))
        try:
            async for chunk in self.clock.follow(microphone, speaker, self.clean):
                await self._hear(chunk)
                if reader.done():
                    reader.result()  # an unexpected failure ends the loop, loudly
            await self._settle(reader)
        finally:
            for task in (reader, *self._tasks):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if self._turn is not None:
                await self._close(self._turn)
            if self._conn is not None:
                await self._conn.close()
        return self.reports

    async def _connect(self) -> RealtimeConnection:
        conn = await RealtimeConnection.open(self.endpoint)
        config = SessionConfig(instructions=self.instructions, create_response=False,
                               interrupt_response=False)
        await conn.send(conn.session_event(config))
        return conn

    async def _settle(self, reader: asyncio.Task[None]) -> None:
        """The microphone ended: give the endpoint time to answer what it heard last, and
        the last answer time to play and be kept."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.endpoint.reply_timeout  # for the words to come back
        while not reader.done():
            answering = self._turn is not None or self._tasks  # the turn's own deadline runs
            if not answering and (not self._hearing or loop.time() > deadline):
                break
            await asyncio.sleep(0.05)
        if reader.done():
            reader.result()  # an unexpected failure ends the loop, loudly

    async def _hear(self, chunk: AudioChunk) -> None:
        turn = self._turn
        if turn is None:
            await self._append(chunk.pcm, chunk.position)
        elif self.barge_in is not None and \
                (hit := self.barge_in.feed(chunk, turn.speaking)) is not None:
            await self._interrupt(turn, hit.speech_sample / SAMPLE_RATE)
            start, audio = self.barge_in.interruption(hit)
            await self._append(audio, start)  # the user from their onset: the next question

    async def _append(self, pcm: np.ndarray, position: int) -> None:
        # With no endpoint just now, what is said meanwhile is not heard; the reader notices
        # a drop and says so.
        with contextlib.suppress(S2sError):
            await self._uplink.send(self._conn, pcm, position)

    # -- events ---------------------------------------------------------------------------
    async def _read(self) -> None:
        """Handle the endpoint's events; after a drop, say so once and reconnect."""
        while True:
            try:
                while True:
                    await self._on(await self._conn.receive())
            except (S2sError, ProtocolError) as exc:
                if isinstance(exc, ProtocolError):  # e.g. audio that is not PCM16
                    exc = S2sWrongProtocol(self.endpoint.realtime_url, exc.message)
                conn, self._conn = self._conn, None
                with contextlib.suppress(Exception):
                    await conn.close()
                self._hearing = False
                if self._turn is not None:
                    await self._close(self._turn)
                await self._trouble(exc)
                self._conn = await self._reconnect()
                self.observe(StateChanged(self.now(), "listening"))

    async def _reconnect(self) -> RealtimeConnection:
        while True:
            await asyncio.sleep(RECONNECT_SECONDS)
            with contextlib.suppress(S2sError):
                return await self._connect()

    async def _on(self, event: dict) -> None:
        kind, turn = event["type"], self._turn
        if kind == "input_audio_buffer.speech_started":
            if turn is not None and self.barge_in is not None:
                await self._interrupt(turn, self.now())
            self._hearing = True
            start = self._uplink.stream_seconds(event.get("audio_start_ms"))
            self._speech = (self.now() if start is None else start, self.now(), self.now())
            self.observe(StateChanged(self.now(), "hearing"))
        elif kind == "input_audio_buffer.speech_stopped":
            end = self._uplink.stream_seconds(event.get("audio_end_ms"))
            self._speech = (self._speech[0], self.now() if end is None else end, self.now())
            self.observe(StateChanged(self.now(), "thinking"))
        elif kind == "conversation.item.input_audio_transcription.completed":
            await self._begin(str(event.get("transcript") or "").strip())
        elif kind == "conversation.item.input_audio_transcription.failed":
            self._hearing = False
        elif kind == "error" and cancel_too_late(event):
            return  # the response had ended as koe cancelled it: nothing is wrong
        elif turn is None or turn.closed or not turn.owns(event):
            if kind == "error":
                await self._trouble(S2sRefused(error_text(event)), aloud=False)
        elif kind == "response.created":
            turn.response_id = (event.get("response") or {}).get("id")
            turn.progress.set()
        elif kind == "response.output_audio_transcript.delta":
            turn.report.first_token = turn.report.first_token or self.now()
            turn.add_text(str(event.get("delta") or ""))
        elif kind == "response.output_audio.delta" and not turn.interrupted:
            self._play(turn, event)
        elif kind == "response.done":
            turn.answered = True
            turn.progress.set()
            self._spawn(self._finish(turn, event.get("response") or {}))
        elif kind == "error":
            await self._close(turn, S2sRefused(error_text(event)))

    async def _begin(self, transcript: str) -> None:
        """The user's words are in: recall, store them, and ask for the answer."""
        self._hearing = False
        start, end, endpoint = self._speech
        admission = self.gate.admit(transcript, start)
        if not transcript or not admission.admitted or not admission.question:
            return  # noise, or not meant for koe: nothing stored, no answer
        report = TurnReport(transcript=transcript, speech_start=start, speech_end=end,
                            endpoint=endpoint, transcript_ready=self.now())
        self.observe(Heard(self.now(), admission.question, final=True))
        draft = await self.conversation.draft(admission.question)
        await self.conversation.confirm(draft)  # the question is stored before we answer
        report.memories = list(draft.memories)
        turn = self._turn = RealtimeTurn(draft, report, earlier=self._responses)
        if self.barge_in is not None:
            self.barge_in.start(self.clock.position)
        block = memory_block_of(draft)
        config = SessionConfig(instructions=f"{self.instructions}\n\n{block}" if block
                               else self.instructions, create_response=False,
                               interrupt_response=False)
        try:
            await self._conn.send(self._conn.session_event(config))
            await self._conn.send({"type": "response.create"})
        except S2sError:
            return  # the reader closes the turn and says what happened
        self._spawn(turn.watch(self.endpoint.reply_timeout, self._stalled))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _play(self, turn: RealtimeTurn, event: dict) -> None:
        turn.report.first_token = turn.report.first_token or self.now()
        turn.item_id = event.get("item_id") or turn.item_id
        chunk = turn.next_chunk(decode_audio(event.get("delta") or ""))
        if not chunk.samples:
            return
        if turn.report.first_audio is None:
            turn.report.first_audio = self.now()
            self.observe(StateChanged(self.now(), "speaking"))
        if chunk.text:
            self.observe(Said(self.now(), chunk.text))
        turn.played.append(self._speaker.play(chunk.pcm, chunk.sample_rate, tag=chunk))

    async def _finish(self, turn: RealtimeTurn, response: dict) -> None:
        """The endpoint has sent the whole reply: keep it once it has played."""
        failed = None
        if response.get("status") == "failed":
            failed = S2sRefused(failure_text(response))
        await self._speaker.drained()
        await self._close(turn, failed)

    async def _stalled(self, turn: RealtimeTurn) -> None:
        await self._cancel(turn)
        await self._close(turn, S2sTimeout("reply", "reply_timeout",
                                           self.endpoint.reply_timeout))

    # -- barge-in and the end of a turn --------------------------------------------------
    async def _interrupt(self, turn: RealtimeTurn, at: float) -> None:
        """The user talks over koe: stop now, cancel the response, truncate the endpoint's
        copy of it to what was played, and keep what was heard."""
        turn.interrupted = True
        turn.report.barge_in = at
        await self._speaker.stop()
        turn.report.stopped = self.now()
        await self._cancel(turn)
        if turn.item_id is not None and self._conn is not None:
            with contextlib.suppress(S2sError):
                await self._conn.send({"type": "conversation.item.truncate",
                                       "item_id": turn.item_id, "content_index": 0,
                                       "audio_end_ms": turn.played_ms()})
        self.gate.replied(self.now())
        await self._close(turn)

    async def _cancel(self, turn: RealtimeTurn) -> None:
        if not turn.answered and self._conn is not None:
            cancel: dict = {"type": "response.cancel"}
            if turn.response_id:
                cancel["response_id"] = turn.response_id
            with contextlib.suppress(S2sError):
                await self._conn.send(cancel)
            turn.answered = True

    async def _close(self, turn: RealtimeTurn, error: KoeError | None = None) -> None:
        """Keep the turn as heard, in memory and the report (once)."""
        if turn.closed:
            return
        turn.closed = True
        if turn.response_id is not None:
            self._responses.add(turn.response_id)
        if self._turn is turn:
            self._turn = None
        if error is not None:
            await self._speaker.stop()
        cut = turn.conclude(error)
        self.reports.append(turn.report)  # first: the run may be ending as this is kept
        await asyncio.shield(self.conversation.finish_draft(
            turn.draft, spoken=turn.report.spoken, interrupted=cut))
        if error is not None:
            await self._trouble(error)
        self.gate.replied(self.now())
        self.observe(TurnDone(self.now(), turn.report))
        self.observe(StateChanged(self.now(), "listening"))

    async def _trouble(self, error: KoeError, aloud: bool = True) -> None:
        """One sentence, printed and (by default) spoken in koe's own voice."""
        speak = aloud and self.settings.run.speak_errors and self.synthesizer is not None
        answer = Answer(self.conversation, self.synthesizer, self._speaker, TurnReport(),
                        self.now, self.observe, speak)
        await answer.say_trouble(error)
