"""`koe serve chat`: audio chat completions over HTTP (POST /v1/chat/completions), on the cascade.

The user's last message may hold `input_audio` (base64 wav) and text; the answer is koe's
spoken reply: streamed (`stream: true`) as SSE chunks whose `delta.audio` carries the audio id,
base64 pcm16 at 24 kHz and transcript pieces, ending `data: [DONE]`; or whole, as
`message.audio` (id, data, transcript, expires_at). Each request is one turn of memory (the
question stored first, the reply as sent; cut short if the client leaves or is too slow).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from aiohttp import web
from aiohttp.typedefs import Handler

from koe.config.errors import KoeError
from koe.voice.assistant.reply import END, ReplyFailed
from koe.voice.audio.resample import resample
from koe.voice.audio.wav import wav_bytes
from koe.voice.realtime.access import Access
from koe.voice.realtime.cascade import Cascade
from koe.voice.realtime.chat_request import ChatRequest, ChatRequestError, read_request
from koe.voice.realtime.events import RATE, encode_audio, new_id
from koe.voice.realtime.items import AssistantItem
from koe.voice.realtime.keeping import keep_reply
from koe.voice.realtime.response import DELTA_SAMPLES

PATHS = ("/v1/chat/completions", "/chat/completions")
MAX_BODY_BYTES = 16 << 20
EXPIRES_SECONDS = 3600
KNOWN_AUDIO = 256  # recent audio ids whose transcripts a later request may refer to


class ClientGone(Exception):
    """The client closed the connection, or took longer than the deadline to read."""


@dataclass
class ChatServer:
    cascade: Cascade
    access: Access
    send_seconds: float = 10.0
    transcripts: OrderedDict[str, str] = field(default_factory=OrderedDict)
    _runner: web.AppRunner | None = None

    async def start(self) -> int:
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[self._auth])
        for path in PATHS:
            app.router.add_post(path, self._complete)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.access.host, self.access.port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            raise
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.access.allows(request.headers.get("Authorization")):
            return _error(401, "a valid bearer token is needed: Authorization: Bearer <key>",
                          code="invalid_api_key")
        return await handler(request)

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        try:
            asked = read_request(json.loads(await request.read()), self.transcripts)
        except ValueError:  # not JSON, or not UTF-8
            return _error(400, "the request body is not valid JSON")
        except ChatRequestError as exc:
            return _error(400, exc.message, param=exc.param)
        conversation = self.cascade.conversation(track=False)
        for user, assistant in asked.history:
            conversation.prompt.finish(conversation.prompt.prepare(user), assistant)
        heard = await self.cascade.parts.hearing.transcribe(asked.audio) \
            if asked.audio is not None else ""
        question = f"{heard} {asked.text}".strip()
        if not question:
            return _error(400, "no words were heard in the audio", param="messages")
        turn = _Turn(asked, AssistantItem(new_id("audio")), new_id("chatcmpl"))
        reply = self.cascade.reply(conversation, question)
        stream = None
        draft = None
        interrupted = True
        try:
            draft = await reply.drafted
            await conversation.confirm(draft)
            if asked.stream:
                stream = await self._open_stream(request, turn)
            pcm: list[np.ndarray] = []
            while (chunk := await reply.chunks.get()) is not END:
                if isinstance(chunk, ReplyFailed):
                    raise chunk.error
                turn.item.chunks.append(chunk)
                audio = resample(chunk.pcm, chunk.sample_rate, RATE)
                if stream is not None:
                    await self._stream_chunk(stream, turn, chunk.text, audio)
                else:
                    pcm.append(audio)
            interrupted = False
        except ClientGone:
            return stream or web.Response(status=499)
        except KoeError as exc:  # the model failed: said in the reply's place
            if stream is None:
                return _error(502, exc.message, code="reply_failed", kind="server_error")
        finally:
            await reply.cancel()  # closes the model's stream
            if draft is not None:
                await keep_reply(conversation, draft, turn.item, interrupted=interrupted)
            self._remember(turn.item)
        if stream is not None:
            await self._finish_stream(stream, turn)
            return stream
        return web.json_response(_completion(turn, np.concatenate(pcm) if pcm else
                                             np.zeros(0, np.int16)))

    async def _open_stream(self, request: web.Request, turn: _Turn) -> web.StreamResponse:
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                             "Cache-Control": "no-cache"})
        await stream.prepare(request)
        await self._send(stream, turn.chunk({"role": "assistant", "content": None}))
        return stream

    async def _stream_chunk(self, stream: web.StreamResponse, turn: _Turn, text: str,
                            audio: np.ndarray) -> None:
        said = text if len(turn.item.chunks) == 1 else " " + text
        await self._send(stream, turn.chunk({"audio": {"id": turn.item.id, "transcript": said}}))
        for start in range(0, len(audio), DELTA_SAMPLES):
            data = encode_audio(audio[start:start + DELTA_SAMPLES])
            await self._send(stream, turn.chunk({"audio": {"id": turn.item.id, "data": data}}))

    async def _finish_stream(self, stream: web.StreamResponse, turn: _Turn) -> None:
        try:
            expires = int(time.time()) + EXPIRES_SECONDS
            await self._send(stream, turn.chunk({"audio": {"id": turn.item.id,
                                                           "expires_at": expires}}))
            await self._send(stream, turn.chunk({}, finish="stop"))
            await self._write(stream, b"data: [DONE]\n\n")
            await stream.write_eof()
        except (ClientGone, ConnectionError):
            pass

    async def _send(self, stream: web.StreamResponse, chunk: dict) -> None:
        await self._write(stream, f"data: {json.dumps(chunk)}\n\n".encode())

    async def _write(self, stream: web.StreamResponse, data: bytes) -> None:
        try:
            async with asyncio.timeout(self.send_seconds):
                await stream.write(data)
        except (TimeoutError, ConnectionError) as exc:
            raise ClientGone(str(exc)) from None

    def _remember(self, item: AssistantItem) -> None:
        self.transcripts[item.id] = item.transcript
        while len(self.transcripts) > KNOWN_AUDIO:
            self.transcripts.popitem(last=False)


@dataclass
class _Turn:
    asked: ChatRequest
    item: AssistantItem
    id: str
    created: int = field(default_factory=lambda: int(time.time()))

    def chunk(self, delta: dict, finish: str | None = None) -> dict:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.asked.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _completion(turn: _Turn, pcm: np.ndarray) -> dict:
    message: dict = {"role": "assistant", "content": None, "refusal": None}
    if turn.asked.wants_audio:
        wav = turn.asked.audio_format == "wav"
        data = wav_bytes(pcm, RATE) if wav else pcm.astype("<i2").tobytes()
        message["audio"] = {"id": turn.item.id, "data": base64.b64encode(data).decode("ascii"),
                            "transcript": turn.item.transcript,
                            "expires_at": int(time.time()) + EXPIRES_SECONDS}
    else:
        message["content"] = turn.item.transcript
    return {"id": turn.id, "object": "chat.completion", "created": turn.created,
            "model": turn.asked.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


def _error(status: int, message: str, *, param: str | None = None, code: str | None = None,
           kind: str = "invalid_request_error") -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind,
                                        "param": param, "code": code}}, status=status)
