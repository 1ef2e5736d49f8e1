"""A Realtime session with koe's own endpointing (s2s.turn_detection = "local"): the voice
loop decides when the user has finished, as in the cascade, and each utterance goes up whole.

For every reply the session's instructions get the memory block recalled for koe's own
transcript of the utterance; the utterance is appended (24 kHz), committed, and a response
asked for; its audio and transcript come back as the reply's deltas. Cut off (barge-in, or a
speculative reply dropped), the response is cancelled and, when some of it was played, the
endpoint's copy truncated to the milliseconds heard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np

from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.resample import resample
from koe.voice.conversation.conversation import Conversation, Draft
from koe.voice.realtime.events import RATE, SessionConfig, decode_audio, encode_audio
from koe.voice.s2s.endpoint import S2sEndpoint
from koe.voice.s2s.errors import (
    S2sDropped,
    S2sError,
    S2sRefused,
    S2sTimeout,
    S2sWrongProtocol,
)
from koe.voice.s2s.realtime_connection import RealtimeConnection, error_text
from koe.voice.s2s.streamed import Delta, StreamedReply, memory_block_of

APPEND_SAMPLES = RATE  # the utterance goes up in one-second events


class RealtimeLink:
    """The session shared by the replies, one at a time; opened again after a drop."""

    def __init__(self, endpoint: S2sEndpoint, instructions: str) -> None:
        self.endpoint = endpoint
        self.instructions = instructions
        self.conn: RealtimeConnection | None = None
        self.lock = asyncio.Lock()  # one response at a time on the session
        # Responses given up before their response.created was read: theirs come first.
        self.unclaimed = 0

    async def connection(self) -> RealtimeConnection:
        if self.conn is None:
            self.conn = await RealtimeConnection.open(self.endpoint)
            self.unclaimed = 0
        return self.conn

    def dropped(self) -> None:
        self.conn = None

    def maker(self, conversation: Conversation,
              clock: Callable[[], float]) -> Callable[[str, np.ndarray], RealtimeReply]:
        """The loop's `new_reply`."""
        return lambda question, pcm: RealtimeReply(self, conversation, clock).start(question,
                                                                                     pcm)

    async def aclose(self) -> None:
        if self.conn is not None:
            await self.conn.close()
            self.conn = None


class RealtimeReply(StreamedReply):
    def __init__(self, link: RealtimeLink, conversation: Conversation,
                 clock: Callable[[], float]) -> None:
        super().__init__(conversation, clock)
        self.link = link
        self.response_id: str | None = None
        self.item_id: str | None = None
        self.asked = False  # response.create was sent
        self.answered = False

    async def stream(self, draft: Draft, pcm: np.ndarray) -> AsyncIterator[Delta]:
        async with self.link.lock:
            try:
                conn = await self.link.connection()
                await self._ask(conn, draft, pcm)
                async for delta in self._receive(conn):
                    yield delta
            except (S2sDropped, S2sWrongProtocol):
                self.link.dropped()  # the next reply opens a new session
                raise

    async def _ask(self, conn: RealtimeConnection, draft: Draft, pcm: np.ndarray) -> None:
        block = memory_block_of(draft)
        instructions = f"{self.link.instructions}\n\n{block}" if block else self.link.instructions
        await conn.send(conn.session_event(SessionConfig(
            instructions=instructions, server_vad=False, transcribe_input=False)))
        await conn.send({"type": "input_audio_buffer.clear"})
        audio = resample(pcm, SAMPLE_RATE, RATE)
        for start in range(0, len(audio), APPEND_SAMPLES):
            await conn.send({"type": "input_audio_buffer.append",
                             "audio": encode_audio(audio[start:start + APPEND_SAMPLES])})
        await conn.send({"type": "input_audio_buffer.commit"})
        await conn.send({"type": "response.create"})
        self.asked = True

    async def _receive(self, conn: RealtimeConnection) -> AsyncIterator[Delta]:
        while True:
            try:
                async with asyncio.timeout(self.link.endpoint.reply_timeout):
                    event = await conn.receive()
            except TimeoutError as exc:
                await self._cancel(conn)
                raise S2sTimeout("reply", "reply_timeout",
                                 self.link.endpoint.reply_timeout) from exc
            kind = event["type"]
            if kind == "response.created" and self.response_id is None:
                if self.link.unclaimed:
                    self.link.unclaimed -= 1  # an earlier reply's, given up
                    continue
                self.response_id = (event.get("response") or {}).get("id")
            elif not self._ours(event):
                continue  # what is left of an earlier, cancelled response
            elif kind == "response.output_audio_transcript.delta":
                yield Delta(text=str(event.get("delta") or ""))
            elif kind == "response.output_audio.delta":
                self.item_id = event.get("item_id") or self.item_id
                yield Delta(pcm=decode_audio(event.get("delta") or ""), rate=RATE)
            elif kind == "response.done":
                self.answered = True
                response = event.get("response") or {}
                if response.get("status") == "failed":
                    raise S2sRefused(str(response.get("status_details") or "response failed"))
                return
            elif kind == "error":
                raise S2sRefused(error_text(event))

    def _ours(self, event: dict[str, Any]) -> bool:
        if event["type"] == "error":  # but not about cancelling what had already ended
            return "cancel" not in str((event.get("error") or {}).get("code") or "")
        owner = event.get("response_id") or (event.get("response") or {}).get("id")
        return owner is None or owner == self.response_id

    async def cancel(self, played_seconds: float | None = None) -> None:
        await super().cancel(played_seconds)
        conn = self.link.conn
        if conn is None or not self.asked:
            return
        if self.response_id is None:
            self.link.unclaimed += 1
        with contextlib.suppress(S2sError):
            await self._cancel(conn)
            if played_seconds is not None and self.item_id is not None:
                await conn.send({"type": "conversation.item.truncate", "item_id": self.item_id,
                                 "content_index": 0,
                                 "audio_end_ms": int(played_seconds * 1000)})

    async def _cancel(self, conn: RealtimeConnection) -> None:
        if not self.answered:
            self.answered = True
            await conn.send({"type": "response.cancel", **(
                {"response_id": self.response_id} if self.response_id else {})})
