"""One Realtime response: koe's spoken reply sent as output audio and transcript deltas.

The reply (`SpokenReply`: model deltas -> speakable chunks -> Piper audio) waits in a queue of
a few chunks (`cascade.ReadyChunks`); each goes out resampled to 24 kHz, transcript delta
first. Sends are awaited, so a client that reads slowly holds the queue full and the model
waits (generation pauses); a client too slow for the send deadline, or gone, ends the
response as cancelled. However it ends, the model's stream is closed and the reply kept as
far as it was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from koe.config.errors import KoeError
from koe.voice.assistant.reply import END, ReplyFailed, SpokenReply
from koe.voice.audio.resample import resample
from koe.voice.conversation.conversation import Conversation, Draft
from koe.voice.realtime.events import RATE, encode_audio, event, new_id
from koe.voice.realtime.items import AssistantItem
from koe.voice.realtime.keeping import keep_reply
from koe.voice.tts.chunk import SpokenChunk

DELTA_SAMPLES = RATE // 5  # 200 ms of audio per delta

Send = Callable[[dict], Awaitable[None]]


class Disconnected(Exception):
    """The client is gone, or too slow to take what is sent: nothing more goes out."""


class Response:
    def __init__(self, conversation: Conversation, reply: SpokenReply, send: Send,
                 beta: bool) -> None:
        self.id = new_id("resp")
        self.item = AssistantItem(new_id("item"))
        self.conversation = conversation
        self.reply = reply
        self.send = send
        self.beta = beta
        self.status = "in_progress"
        self.reason: str | None = None  # why it was cancelled
        self.failure: KoeError | None = None
        self.first_audio: float | None = None  # loop time of the first audio delta
        self.task: asyncio.Task[None] | None = None
        self._draft: Draft | None = None
        self._ending = False
        self._announced = False  # the item and its content part were sent

    def start(self, previous_item_id: str | None) -> None:
        self.task = asyncio.create_task(self._run(previous_item_id))

    @property
    def active(self) -> bool:
        return self.task is not None and not self.task.done()

    async def cancel(self, reason: str) -> None:
        """Stop now (the model's stream closes); `response.done` says `cancelled`."""
        if self.task is None or self.task.done():
            return
        if self._ending:  # already keeping the reply and saying so: let it finish
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self.task)
            return
        self.reason = reason
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def _run(self, previous_item_id: str | None) -> None:
        try:
            await self.send(event("response.created", response=self._wire()))
            self._draft = await self.reply.drafted
            await self.conversation.confirm(self._draft)  # the question is stored first
            await self.send(event("response.output_item.added", response_id=self.id,
                                  output_index=0, item=self.item.to_wire(self.beta)))
            await self.send(event("conversation.item.added", previous_item_id=previous_item_id,
                                  item=self.item.to_wire(self.beta)))
            await self.send(event("response.content_part.added", **self._where(),
                                  part=self.item.part(self.beta)))
            self._announced = True
            while (chunk := await self.reply.chunks.get()) is not END:
                if isinstance(chunk, ReplyFailed):
                    self.failure = chunk.error
                else:
                    await self._send_chunk(chunk)
            self.status = "failed" if self.failure else "completed"
        except KoeError as exc:  # the reply could not even begin (recall, the model)
            self.failure, self.status = exc, "failed"
        except (asyncio.CancelledError, Disconnected):
            self.status = "cancelled"
            self.reason = self.reason or "client_cancelled"
        finally:
            self._ending = True
            await self.reply.cancel()  # closes the model's stream
            await self._end()

    async def _send_chunk(self, chunk: SpokenChunk) -> None:
        if chunk.samples == 0:
            return
        delta = chunk.text if not self.item.chunks else " " + chunk.text
        pcm = resample(chunk.pcm, chunk.sample_rate, RATE)
        await self.send(event("response.output_audio_transcript.delta", **self._where(),
                              delta=delta))
        self.item.chunks.append(chunk)
        for start in range(0, len(pcm), DELTA_SAMPLES):
            await self.send(event("response.output_audio.delta", **self._where(),
                                  delta=encode_audio(pcm[start:start + DELTA_SAMPLES])))
            if self.first_audio is None:
                self.first_audio = asyncio.get_running_loop().time()

    async def _end(self) -> None:
        """Keep the reply as sent, then the closing events (as far as the client takes them)."""
        done = self.status == "completed"
        self.item.status = "completed" if done else "incomplete"
        if self._draft is not None:
            await keep_reply(self.conversation, self._draft, self.item, interrupted=not done)
        with contextlib.suppress(Disconnected):
            if self._announced:
                where = self._where()
                await self.send(event("response.output_audio.done", **where))
                await self.send(event("response.output_audio_transcript.done", **where,
                                      transcript=self.item.transcript))
                await self.send(event("response.content_part.done", **where,
                                      part=self.item.part(self.beta)))
                await self.send(event("response.output_item.done", response_id=self.id,
                                      output_index=0, item=self.item.to_wire(self.beta)))
            await self.send(event("response.done", response=self._wire()))

    def _where(self) -> dict:
        return {"response_id": self.id, "item_id": self.item.id, "output_index": 0,
                "content_index": 0}

    def _wire(self) -> dict:
        details = None
        if self.status == "cancelled":
            details = {"type": "cancelled", "reason": self.reason}
        elif self.status == "failed" and self.failure is not None:
            details = {"type": "failed", "error": {"type": "server_error", "code": "reply_failed",
                                                   "message": self.failure.message}}
        output = [self.item.to_wire(self.beta)] if self._announced else []
        wire = {"id": self.id, "object": "realtime.response", "status": self.status,
                "status_details": details, "output": output,
                "conversation_id": self.conversation.id}
        modalities = ["text", "audio"] if self.beta else ["audio"]
        wire["modalities" if self.beta else "output_modalities"] = modalities
        return wire

