"""`koe serve realtime`: the Realtime protocol over WebSockets, on koe's own cascade.

Paths /v1/realtime and /realtime (a `model` query parameter is echoed, not used); the header
`OpenAI-Beta: realtime=v1` selects the beta event names. Everything is bounded: a frame above
`max_frame_bytes` closes the connection (1009), an event above `max_event_bytes` is refused
with an `error` event, at most `queued_frames` wait to be read, and the kernel holds at most
`send_buffer_bytes` for a client that reads slowly; one that takes more than `send_seconds`
to accept an event is disconnected (its response cancelled and kept as interrupted).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request
from websockets.http11 import Response as HttpResponse

from koe.voice.realtime.access import Access
from koe.voice.realtime.cascade import Cascade
from koe.voice.realtime.events import BETA_HEADER, error_event, wire_name
from koe.voice.realtime.response import Disconnected, Send
from koe.voice.realtime.session import RealtimeSession

PATHS = frozenset({"/v1/realtime", "/realtime"})


@dataclass(frozen=True)
class Limits:
    max_event_bytes: int = 1 << 20  # ~20 s of audio in one append
    max_frame_bytes: int = 4 << 20
    queued_frames: int = 8
    send_buffer_bytes: int = 64 << 10
    send_seconds: float = 10.0


@dataclass
class RealtimeServer:
    cascade: Cascade
    access: Access
    limits: Limits = field(default_factory=Limits)
    sessions: set[RealtimeSession] = field(default_factory=set)
    # the last sessions to end, for tests and benchmarks
    finished: deque[RealtimeSession] = field(default_factory=lambda: deque(maxlen=16))
    _server: Server | None = None

    async def start(self) -> int:
        """Listen; the port actually bound (the access's, or a free one for port 0)."""
        self._server = await serve(
            self._connection, self.access.host, self.access.port,
            process_request=self._check, compression=None,
            max_size=self.limits.max_frame_bytes, max_queue=self.limits.queued_frames)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close every connection (their responses are cancelled and kept) and stop."""
        if self._server is not None:
            self._server.close(close_connections=True)
            await self._server.wait_closed()

    def _check(self, connection: ServerConnection, request: Request) -> HttpResponse | None:
        if urlsplit(request.path).path.rstrip("/") not in PATHS:
            return connection.respond(HTTPStatus.NOT_FOUND, "koe serves /v1/realtime\n")
        if "websocket" not in (request.headers.get("Upgrade") or "").lower():
            # A browser or curl: an answer, not a failed handshake's traceback in the log.
            return connection.respond(HTTPStatus.UPGRADE_REQUIRED, "koe serves the Realtime "
                                      "protocol here: connect with a WebSocket client\n")
        if not self.access.allows(request.headers.get("Authorization")):
            return connection.respond(HTTPStatus.UNAUTHORIZED, "a valid bearer token is "
                                      "needed: Authorization: Bearer <key>\n")
        return None

    async def _connection(self, ws: ServerConnection) -> None:
        _limit_send_buffer(ws, self.limits.send_buffer_bytes)
        request = ws.request
        beta = BETA_HEADER[1] in (request.headers.get(BETA_HEADER[0]) or "") if request else False
        query = parse_qs(urlsplit(request.path).query) if request else {}
        session = RealtimeSession(self.cascade, _sender(ws, beta, self.limits.send_seconds),
                                  beta=beta, model=query.get("model", ["koe"])[0])
        self.sessions.add(session)
        try:
            await session.start()
            async for message in ws:
                if len(message) > self.limits.max_event_bytes:
                    await session.send(error_event(
                        f"the event is larger than {self.limits.max_event_bytes} bytes; send "
                        "audio in smaller appends", "event_too_large"))
                    continue
                await session.handle(message)
        except (ConnectionClosed, Disconnected):
            pass
        finally:
            await session.close()
            self.sessions.discard(session)
            self.finished.append(session)


def _sender(ws: ServerConnection, beta: bool, send_seconds: float) -> Send:
    """The session's `send`: in the client's dialect, awaited, with a deadline."""
    gone = False

    async def send(sent: dict) -> None:
        nonlocal gone
        if gone:
            raise Disconnected("the client is gone")
        text = json.dumps({**sent, "type": wire_name(sent["type"], beta)})
        try:
            async with asyncio.timeout(send_seconds):
                await ws.send(text)
        except TimeoutError:
            gone = True
            ws.transport.abort()  # too slow to read: drop what waits for it
            raise Disconnected("the client stopped reading") from None
        except ConnectionClosed:
            gone = True
            raise Disconnected("the client is gone") from None

    return send


def _limit_send_buffer(ws: ServerConnection, size: int) -> None:
    sock = ws.transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
