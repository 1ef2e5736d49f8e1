"""A stand-in for a hosted Realtime API speaking the beta dialect over a real WebSocket.

It keeps every event it receives. Its VAD (on unless a session.update turns it off) is an
energy threshold on the appended 24 kHz audio (speech_started, then speech_stopped after
`silence_ms` of quiet); without it the client commits. The transcript of each utterance and
the audio of each reply come from the test, in order. Replies are sent
as beta events (response.audio.delta, response.audio_transcript.delta, ...), a few times
faster than they play, as a hosted model makes them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers

RATE = 24000
FRAME = RATE // 50  # 20 ms
DELTA_SAMPLES = RATE // 5  # audio sent in 200 ms pieces
PACE = 3.0  # replies are made this many times faster than they play


@dataclass
class Reply:
    text: str
    pcm: np.ndarray  # int16 at 24 kHz


@dataclass
class FakeRealtime:
    transcripts: list[str]
    replies: list[Reply]
    silence_ms: int = 500
    level: int = 500
    port: int = 0
    key: str = ""  # when set, a connection without this bearer key is refused (401)
    drop_first_after: float | None = None  # seconds after which the first session is cut
    think_seconds: float = 0.0  # before each reply starts, as a slow model takes
    received: list[dict] = field(default_factory=list)
    headers: list[Headers] = field(default_factory=list)
    sessions: int = 0

    def of_type(self, kind: str) -> list[dict]:
        return [e for e in self.received if e.get("type") == kind]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeRealtime]:
        async with serve(self._session, "127.0.0.1", self.port,
                         process_request=self._check_key, max_size=2**24) as server:
            self.port = server.sockets[0].getsockname()[1]
            yield self

    def _check_key(self, connection: ServerConnection, request: object) -> object:
        self.headers.append(request.headers)  # case-insensitive, as HTTP is
        if self.key and request.headers.get("Authorization") != f"Bearer {self.key}":
            return connection.respond(401, "invalid api key\n")
        return None

    async def _session(self, ws: ServerConnection) -> None:
        self.sessions += 1
        if self.sessions == 1 and self.drop_first_after is not None:
            asyncio.get_running_loop().call_later(
                self.drop_first_after, lambda: asyncio.ensure_future(ws.close(1011, "gone")))
        await self._send(ws, "session.created", session={"id": "sess_fake", "voice": "alloy"})
        speaking, quiet, heard, vad = False, 0, 0, True
        replying: asyncio.Task[None] | None = None
        async for message in ws:
            event = json.loads(message)
            self.received.append(event)
            kind = event.get("type")
            if kind == "session.update":
                vad = event["session"].get("turn_detection") is not None
                await self._send(ws, "session.updated", session=event.get("session"))
            elif kind == "input_audio_buffer.commit":
                heard += 1
                await self._send(ws, "input_audio_buffer.committed", item_id=f"item_user{heard}")
            elif kind == "input_audio_buffer.append" and vad:
                pcm = np.frombuffer(base64.b64decode(event["audio"]), dtype="<i2")
                for start in range(0, len(pcm), FRAME):
                    loud = np.abs(pcm[start:start + FRAME].astype(np.int32)).max(initial=0)
                    if loud > self.level:
                        quiet = 0
                        if not speaking:
                            speaking = True
                            await self._send(ws, "input_audio_buffer.speech_started",
                                             audio_start_ms=0, item_id="item_user")
                    elif speaking:
                        quiet += FRAME
                        if quiet * 1000 // RATE >= self.silence_ms:
                            speaking = False
                            await self._send(ws, "input_audio_buffer.speech_stopped",
                                             audio_end_ms=0, item_id="item_user")
                            text = self.transcripts[min(heard, len(self.transcripts) - 1)]
                            heard += 1
                            await self._send(
                                ws, "conversation.item.input_audio_transcription.completed",
                                item_id=f"item_user{heard}", content_index=0, transcript=text)
            elif kind == "response.create":
                reply = self.replies[min(len(self.of_type("response.create")) - 1,
                                         len(self.replies) - 1)]
                replying = asyncio.create_task(self._reply(ws, reply))
            elif kind == "response.cancel" and replying is not None:
                replying.cancel()

    async def _reply(self, ws: ServerConnection, reply: Reply) -> None:
        response, item = f"resp_{uuid.uuid4().hex[:8]}", f"item_{uuid.uuid4().hex[:8]}"
        await asyncio.sleep(self.think_seconds)
        await self._send(ws, "response.created", response={"id": response,
                                                           "status": "in_progress"})
        await self._send(ws, "conversation.item.created", item={"id": item, "role": "assistant"})
        status = "completed"
        try:
            words = reply.text.split(" ")
            pieces = range(0, len(reply.pcm), DELTA_SAMPLES)
            for n, start in enumerate(pieces):
                share = words[n * len(words) // len(pieces):(n + 1) * len(words) // len(pieces)]
                if share:
                    await self._send(ws, "response.audio_transcript.delta", response_id=response,
                                     item_id=item, delta=" ".join(share) + " ")
                audio = reply.pcm[start:start + DELTA_SAMPLES].astype("<i2").tobytes()
                await self._send(ws, "response.audio.delta", response_id=response, item_id=item,
                                 output_index=0, content_index=0,
                                 delta=base64.b64encode(audio).decode())
                await asyncio.sleep(DELTA_SAMPLES / RATE / PACE)
            await self._send(ws, "response.audio.done", response_id=response, item_id=item)
        except asyncio.CancelledError:
            status = "cancelled"
        await self._send(ws, "response.done", response={"id": response, "status": status})

    @staticmethod
    async def _send(ws: ServerConnection, kind: str, **fields: object) -> None:
        await ws.send(json.dumps({"type": kind, "event_id": f"event_{uuid.uuid4().hex[:8]}",
                                  **fields}))
