"""One Realtime connection: the client's events in, koe's cascade behind them, server events out.

The reader calls `handle` for every message and never waits on the models: transcription and
responses run as work, one after another (`_queue`), so barge-in and the client's cancels are
heard at once. With server VAD, speech is transcribed and answered speculatively at a short
pause, as in `koe run`; a commit at the endpoint then finds the reply on its way.
A bad event is answered with an `error` event; the connection stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import numpy as np

from koe.config.errors import KoeError
from koe.voice.assistant.reply import SpokenReply
from koe.voice.assistant.speculation import Speculation
from koe.voice.realtime.cascade import Cascade, system_prompt
from koe.voice.realtime.events import (
    ProtocolError,
    SessionConfig,
    decode_audio,
    error_event,
    event,
    new_id,
    parse_event,
)
from koe.voice.realtime.items import AssistantItem, UserItem, user_item
from koe.voice.realtime.keeping import truncate
from koe.voice.realtime.listening import InputAudio, to_ms
from koe.voice.realtime.readahead import ReadAhead
from koe.voice.realtime.response import Disconnected, Response, Send
from koe.voice.turns.events import SpeechEnded, SpeechPaused, SpeechResumed, SpeechStarted
from koe.voice.turns.wake import WakeGate

log = logging.getLogger(__name__)
KEPT_ITEMS = 16  # assistant items a client may still truncate
MAX_UNANSWERED = 64  # user items waiting for response.create
Handler = Callable[["RealtimeSession", dict], Awaitable[None]]


class RealtimeSession:
    def __init__(self, cascade: Cascade, send: Send, *, beta: bool, model: str) -> None:
        self.cascade = cascade
        self.send = send
        self.beta = beta
        self.model = model
        self.id = new_id("sess")
        self.config = SessionConfig()
        self.conversation = cascade.conversation()
        self.input = InputAudio(cascade.settings.listen, self.config)
        self.unanswered: list[UserItem] = []
        # the recent replies, with their audio, for truncation (older ones are let go)
        self.assistant: OrderedDict[str, AssistantItem] = OrderedDict()
        self.response: Response | None = None
        self.responses: deque[Response] = deque(maxlen=KEPT_ITEMS)  # tests, benchmarks
        self.last_item_id: str | None = None
        self._speech_item: str | None = None  # the item the speech being heard will become
        self._speculation: Speculation | None = None
        self._work: asyncio.Task[None] | None = None
        self._gate = WakeGate()
        self._read_ahead = ReadAhead(cascade.parts.hearing, self.conversation)

    async def start(self) -> None:
        await self.send(event("session.created", session=self._session()))

    async def handle(self, message: str | bytes) -> None:
        """One client message; a ProtocolError becomes an `error` event."""
        event_id = None
        try:
            received = parse_event(message)
            event_id = received.get("event_id") if isinstance(received.get("event_id"),
                                                              str) else None
            handler = HANDLERS.get(received["type"])
            if handler is None:
                raise ProtocolError(f"unsupported event type {received['type']!r}",
                                    "unknown_event")
            await handler(self, received)
        except ProtocolError as exc:
            await self.send(error_event(exc.message, exc.code, event_id=exc.event_id or event_id))
        except (Disconnected, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug must not cost the client its connection
            log.exception("realtime: an event failed")
            await self.send(error_event(f"the server failed on this event: {exc}",
                                        "server_error", event_id=event_id, kind="server_error"))

    async def close(self) -> None:
        """The connection ended: drop speculation, cancel the response (its stream closes and
        the turn is kept as interrupted), summarise the conversation in the background."""
        await self._drop_speculation()
        await self._read_ahead.cancel()
        if self.response is not None:
            await self.response.cancel("client_cancelled")
        if self._work is not None and not self._work.done():
            self._work.cancel()
            with contextlib.suppress(asyncio.CancelledError, Disconnected):
                await self._work
        self.cascade.end(self.conversation)

    # -- session -----------------------------------------------------------------------
    async def _update(self, received: dict) -> None:
        config = self.config.updated(received.get("session"))
        if _turns(config) != _turns(self.config):
            await self._drop_speculation()
            self.input.configure(config)
        self.config = config
        self.conversation.prompt.system = system_prompt(config.instructions)
        await self.send(event("session.updated", session=self._session()))

    def _session(self) -> dict:
        return {"id": self.id, "object": "realtime.session", "model": self.model,
                **self.config.to_wire(self.beta)}

    # -- input audio -------------------------------------------------------------------
    async def _append(self, received: dict) -> None:
        for turn_event in self.input.append(decode_audio(received.get("audio"))):
            await self._on(turn_event)
        if self.input.in_speech and self.config.create_response and self._speculation is None:
            self._read_ahead.heard(self.input.segmenter, self._unanswered_text)

    async def _on(self, turn_event: object) -> None:
        if isinstance(turn_event, SpeechStarted):
            self._speech_item = new_id("item")
            self._read_ahead.started()
            await self.send(event("input_audio_buffer.speech_started",
                                  audio_start_ms=to_ms(turn_event.start_sample),
                                  item_id=self._speech_item))
            if self.config.interrupt_response and self.response is not None:
                await self.response.cancel("turn_detected")
        elif isinstance(turn_event, SpeechPaused):
            await self._drop_speculation()
            if self.config.create_response:
                self._speculation = self._speculate(turn_event.pcm, at_pause=True)
        elif isinstance(turn_event, SpeechResumed):
            await self._drop_speculation()
        elif isinstance(turn_event, SpeechEnded):
            item_id = self._speech_item or new_id("item")
            self._speech_item = None
            await self.send(event("input_audio_buffer.speech_stopped",
                                  audio_end_ms=to_ms(turn_event.end_sample), item_id=item_id))
            speculation, self._speculation = self._speculation, None
            if speculation is None and self.config.create_response:
                speculation = self._speculate(turn_event.pcm, at_pause=False)
            await self._commit(UserItem(item_id), turn_event.pcm, speculation)

    async def _commit_buffer(self, received: dict) -> None:
        ended = self.input.take()
        await self._drop_speculation()
        item_id = self._speech_item or new_id("item")
        self._speech_item = None
        await self._commit(UserItem(item_id), ended.pcm, None)

    async def _clear(self, received: dict) -> None:
        self.input.clear()
        self._speech_item = None
        await self._drop_speculation()
        await self.send(event("input_audio_buffer.cleared"))

    async def _commit(self, item: UserItem, pcm: np.ndarray,
                      speculation: Speculation | None) -> None:
        await self.send(event("input_audio_buffer.committed", item_id=item.id,
                              previous_item_id=self.last_item_id))
        await self._added(item)
        self._queue(self._hear(item, pcm, speculation))

    async def _hear(self, item: UserItem, pcm: np.ndarray,
                    speculation: Speculation | None) -> None:
        """Transcribe a committed utterance; with speculation its reply is on its way."""
        reply: SpokenReply | None = None
        if speculation is not None:
            reply = await speculation.result()
            item.text = speculation.transcript
        else:
            item.text = await self.cascade.parts.hearing.transcribe(pcm)
        if self.config.transcribe_input:
            await self.send(event("conversation.item.input_audio_transcription.completed",
                                  item_id=item.id, content_index=0, transcript=item.text))
        if reply is not None:
            self.unanswered.clear()
            await self._answer(reply)
        elif item.text.strip():
            self.unanswered.append(item)

    def _unanswered_text(self) -> str:
        return " ".join(item.text for item in self.unanswered)

    def _speculate(self, pcm: np.ndarray, at_pause: bool) -> Speculation:
        before = self._unanswered_text()
        previous = self._work

        async def begin(question: str) -> SpokenReply:
            await _settled(previous)  # the last reply is kept before the next prompt is built
            return self.cascade.reply(self.conversation, f"{before} {question}".strip())

        clock = asyncio.get_running_loop().time
        return Speculation(self.cascade.parts.hearing, pcm, self._gate, 0.0, begin, clock,
                           at_pause)

    async def _drop_speculation(self) -> None:
        if self._speculation is not None:
            await self._speculation.cancel()
            self._speculation = None

    # -- conversation items --------------------------------------------------------------
    async def _create_item(self, received: dict) -> None:
        added = user_item(received.get("item"))
        if len(self.unanswered) >= MAX_UNANSWERED:
            raise ProtocolError(f"{MAX_UNANSWERED} items are waiting for a response already",
                                "too_many_items")
        self.unanswered.append(added)
        await self._added(added)

    async def _added(self, item: UserItem) -> None:
        await self.send(event("conversation.item.added", previous_item_id=self.last_item_id,
                              item=item.to_wire(self.beta)))
        self.last_item_id = item.id

    async def _truncate(self, received: dict) -> None:
        item_id = received.get("item_id")
        item = self.assistant.get(item_id) if isinstance(item_id, str) else None
        if item is None:
            raise ProtocolError(f"no assistant item {received.get('item_id')!r}",
                                "item_not_found")
        end_ms = received.get("audio_end_ms")
        if not isinstance(end_ms, int) or isinstance(end_ms, bool) or end_ms < 0:
            raise ProtocolError("audio_end_ms must be a whole number of milliseconds",
                                "invalid_value")
        if self.response is not None and self.response.item is item:
            await self.response.cancel("client_cancelled")
        await truncate(self.conversation, item, end_ms)
        await self.send(event("conversation.item.truncated", item_id=item.id,
                              content_index=0, audio_end_ms=item.truncated_ms))

    # -- responses -----------------------------------------------------------------------
    async def _create_response(self, received: dict) -> None:
        if self.response is not None and self.response.active:
            raise ProtocolError("a response is already in progress",
                                "conversation_already_has_active_response")

        async def respond() -> None:
            question = self._unanswered_text().strip()
            self.unanswered.clear()
            if not question:
                await self.send(error_event("there is nothing new to respond to",
                                            "no_input", event_id=received.get("event_id")))
                return
            await self._answer(self.cascade.reply(self.conversation, question))

        self._queue(respond())

    async def _cancel_response(self, received: dict) -> None:
        if self.response is None or not self.response.active:
            raise ProtocolError("there is no response in progress", "response_cancel_not_active")
        await self.response.cancel("client_cancelled")

    async def _answer(self, reply: SpokenReply) -> None:
        response = Response(self.conversation, reply, self.send, self.beta)
        self.response = response
        self.responses.append(response)
        self.assistant[response.item.id] = response.item
        while len(self.assistant) > KEPT_ITEMS:
            self.assistant.popitem(last=False)
        response.start(self.last_item_id)
        self.last_item_id = response.item.id
        await asyncio.shield(response.task)

    def _queue(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the work before it (transcriptions and responses keep order)."""
        previous = self._work

        async def after() -> None:
            try:
                await _settled(previous)
            except asyncio.CancelledError:
                work.close()  # never started
                raise
            try:
                await work
            except KoeError as exc:  # the models failed this turn; the session goes on
                with contextlib.suppress(Disconnected):
                    await self.send(error_event(exc.message, "server_error", kind="server_error"))
            except Disconnected:
                pass  # the client is gone: nothing more to say

        self._work = asyncio.create_task(after())


async def _settled(task: asyncio.Task[None] | None) -> None:
    """Wait for `task` to end, however it ends; a cancellation of the waiter still counts."""
    if task is not None:
        await asyncio.wait([task])


def _turns(config: SessionConfig) -> tuple:
    return (config.server_vad, config.silence_duration_ms, config.prefix_padding_ms,
            config.threshold)


HANDLERS: dict[str, Handler] = {
    "session.update": RealtimeSession._update,
    "input_audio_buffer.append": RealtimeSession._append,
    "input_audio_buffer.commit": RealtimeSession._commit_buffer,
    "input_audio_buffer.clear": RealtimeSession._clear,
    "conversation.item.create": RealtimeSession._create_item,
    "conversation.item.truncate": RealtimeSession._truncate,
    "response.create": RealtimeSession._create_response,
    "response.cancel": RealtimeSession._cancel_response,
}
