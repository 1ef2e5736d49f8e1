"""A stand-in for a hosted audio chat-completions API over a real HTTP socket.

POST /v1/chat/completions with `modalities: ["text", "audio"]` and a user message holding
`input_audio` (base64 WAV) is answered as such an API streams: server-sent events whose
`choices[0].delta.audio` carries base64 pcm16 (24 kHz) in `data` and the words in
`transcript`, then `data: [DONE]`. Each request is kept; replies come from the test, in order.
A request without audio in, or with a wrong key, gets the API's 400 / 401.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from tests.voice.s2s.fake_realtime import DELTA_SAMPLES, PACE, RATE, Reply


@dataclass
class FakeAudioChat:
    replies: list[Reply]
    key: str = ""
    port: int = 0
    requests: list[dict] = field(default_factory=list)
    cancelled: int = 0  # streams the client closed before the end

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeAudioChat]:
        app = web.Application(client_max_size=2**25)
        app.router.add_post("/v1/chat/completions", self._complete)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            await runner.cleanup()

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        if self.key and request.headers.get("Authorization") != f"Bearer {self.key}":
            return web.json_response({"error": {"message": "Incorrect API key provided",
                                                "type": "invalid_request_error"}}, status=401)
        body = await request.json()
        self.requests.append(body)
        audio_in = [part for m in body.get("messages", []) if isinstance(m.get("content"), list)
                    for part in m["content"] if part.get("type") == "input_audio"]
        if body.get("modalities") != ["text", "audio"] or not audio_in or \
                body.get("audio", {}).get("format") != "pcm16":
            return web.json_response({"error": {"message": "audio in and out expected"}},
                                     status=400)
        reply = self.replies[min(len(self.requests) - 1, len(self.replies) - 1)]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            words = reply.text.split(" ")
            pieces = range(0, len(reply.pcm), DELTA_SAMPLES)
            for n, start in enumerate(pieces):
                share = words[n * len(words) // len(pieces):(n + 1) * len(words) // len(pieces)]
                audio = reply.pcm[start:start + DELTA_SAMPLES].astype("<i2").tobytes()
                delta = {"audio": {"id": "audio_1", "data": base64.b64encode(audio).decode(),
                                   "transcript": " ".join(share) + " " if share else ""}}
                await self._event(response, {"id": "chatcmpl-1", "object":
                                             "chat.completion.chunk",
                                             "choices": [{"index": 0, "delta": delta}]})
                await asyncio.sleep(DELTA_SAMPLES / RATE / PACE)
            await response.write(b"data: [DONE]\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            self.cancelled += 1
            raise
        return response

    @staticmethod
    async def _event(response: web.StreamResponse, data: dict) -> None:
        await response.write(f"data: {json.dumps(data)}\n\n".encode())
