"""One Realtime WebSocket session: opened with a deadline, events sent in the session's
dialect (GA or beta) and received under their GA names (`koe.voice.realtime.events`).

Every way the endpoint can fail to be one (nothing listening, a refused key, an HTTP server
that is no WebSocket, no `session.created`) is one S2sError saying so.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from socket import gaierror
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from koe.config.errors import one_line
from koe.voice.realtime.events import ProtocolError, SessionConfig, parse_event, wire_name
from koe.voice.s2s.endpoint import S2sEndpoint
from koe.voice.s2s.errors import (
    S2sDropped,
    S2sKeyRefused,
    S2sTimeout,
    S2sUnreachable,
    S2sWrongProtocol,
)

# Largest event taken from the endpoint: a few seconds of base64 audio, with room to spare.
MAX_EVENT_BYTES = 16 * 2**20
# What koe's Realtime client asks the endpoint to transcribe the user's speech with.
TRANSCRIPTION = {"model": "whisper-1"}


class RealtimeConnection:
    def __init__(self, endpoint: S2sEndpoint, socket: ClientConnection,
                 session: dict[str, Any]) -> None:
        self.endpoint = endpoint
        self.socket = socket
        self.session = session  # as the endpoint announced it in session.created

    @classmethod
    async def open(cls, endpoint: S2sEndpoint) -> RealtimeConnection:
        """Connect and wait for `session.created`, within s2s.connect_timeout."""
        url = endpoint.realtime_url
        try:
            async with asyncio.timeout(endpoint.connect_timeout):
                socket = await connect(url, additional_headers=endpoint.headers(),
                                       max_size=MAX_EVENT_BYTES, open_timeout=None,
                                       proxy=None)
                try:
                    first = parse_event(await socket.recv())
                except BaseException:
                    await socket.close()
                    raise
        except TimeoutError as exc:
            raise S2sTimeout("Realtime session", "connect_timeout",
                             endpoint.connect_timeout) from exc
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise S2sKeyRefused(status, endpoint.api_key_env, bool(endpoint.api_key)) \
                    from exc
            raise S2sWrongProtocol(url, f"HTTP {status} instead of a WebSocket") from exc
        except (InvalidHandshake, InvalidURI) as exc:
            raise S2sWrongProtocol(url, f"no WebSocket here ({one_line(str(exc), 100)})") \
                from exc
        except ProtocolError as exc:
            raise S2sWrongProtocol(url, exc.message) from exc
        except ConnectionClosed as exc:
            raise S2sDropped(f"closed before the session began ({exc.rcvd or 'no reason'})") \
                from exc
        except gaierror as exc:
            raise S2sUnreachable(endpoint.base_url, exc.strerror or str(exc)) from exc
        except OSError as exc:
            raise S2sUnreachable(endpoint.base_url) from exc
        if first["type"] == "error":
            await socket.close()
            raise S2sWrongProtocol(url, error_text(first))
        if first["type"] != "session.created":
            await socket.close()
            raise S2sWrongProtocol(url, f"{first['type']!r} instead of session.created")
        session = first.get("session")
        return cls(endpoint, socket, session if isinstance(session, dict) else {})

    async def send(self, event: dict[str, Any]) -> None:
        """Send an event given under its GA name; a closed connection is S2sDropped."""
        wire = {**event, "type": wire_name(event["type"], self.endpoint.beta)}
        try:
            await self.socket.send(json.dumps(wire))
        except ConnectionClosed as exc:
            raise S2sDropped(_closed(exc)) from exc

    async def receive(self) -> dict[str, Any]:
        """The next event, its type under the GA name; a closed connection is S2sDropped,
        an event that is no event S2sWrongProtocol."""
        try:
            text = await self.socket.recv()
        except ConnectionClosed as exc:
            raise S2sDropped(_closed(exc)) from exc
        try:
            return parse_event(text)
        except ProtocolError as exc:
            raise S2sWrongProtocol(self.endpoint.realtime_url, exc.message) from exc

    async def close(self) -> None:
        await self.socket.close()

    def session_event(self, config: SessionConfig) -> dict[str, Any]:
        """session.update for `config`, in this session's dialect, with the endpoint's voice
        (its own default when none is set) and a transcription model it knows."""
        beta = self.endpoint.beta
        if self.endpoint.voice:
            config = replace(config, voice=self.endpoint.voice)
        session = config.to_wire(beta)
        audio_in = session if beta else session["audio"]["input"]
        key = "input_audio_transcription" if beta else "transcription"
        if audio_in.get(key) is not None:
            audio_in[key] = dict(TRANSCRIPTION)
        if not self.endpoint.voice:
            (session if beta else session["audio"]["output"]).pop("voice", None)
        return {"type": "session.update", "session": session}


def _closed(exc: ConnectionClosed) -> str:
    frame = exc.rcvd
    if frame is None:
        return "the endpoint closed the connection"
    reason = f": {frame.reason}" if frame.reason else ""
    return f"the endpoint closed the connection ({frame.code}{reason})"


def error_text(event: dict[str, Any]) -> str:
    """An `error` event's message, on one line."""
    error = event.get("error")
    if isinstance(error, dict):
        return one_line(str(error.get("message") or error.get("code") or error), 160)
    return one_line(str(error), 160)


def cancel_too_late(event: dict[str, Any]) -> bool:
    """An `error` saying the response koe cancelled had already ended: nothing is wrong."""
    error = event.get("error")
    return isinstance(error, dict) and error.get("code") == "response_cancel_not_active"


def failure_text(response: dict[str, Any]) -> str:
    """Why a response (in response.done) failed."""
    details = response.get("status_details") or {}
    error = details.get("error") if isinstance(details, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return one_line(str(error["message"]), 160)
    return "the response failed"
