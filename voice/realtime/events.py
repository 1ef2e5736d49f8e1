"""The Realtime protocol's wire vocabulary: event names in both dialects, events, session, audio.

The one copy shared by `koe serve realtime` and koe's Realtime client. Audio is 24 kHz 16-bit
little-endian mono PCM, base64 in JSON. Two dialects exist: the GA one and the beta one (a client
that sends `OpenAI-Beta: realtime=v1`); they differ in a few server event names and in the shape
of the session object. Inside koe every event type is held under its GA name.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from koe.config.errors import KoeError

RATE = 24000
BETA_HEADER = ("OpenAI-Beta", "realtime=v1")

# beta name -> GA name; names absent here are the same in both dialects
_BETA_TO_GA = {
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
    "response.text.delta": "response.output_text.delta",
    "response.text.done": "response.output_text.done",
    "conversation.item.created": "conversation.item.added",
}
_GA_TO_BETA = {ga: beta for beta, ga in _BETA_TO_GA.items()}


class ProtocolError(KoeError):
    """A client or server event that breaks the protocol; answered by an `error` event."""

    def __init__(self, message: str, code: str = "invalid_event",
                 event_id: str | None = None, hint: str = "") -> None:
        super().__init__(message, hint)
        self.code = code
        self.event_id = event_id


def canonical(event_type: str) -> str:
    """The GA name of an event type given in either dialect."""
    return _BETA_TO_GA.get(event_type, event_type)


def wire_name(ga_type: str, beta: bool) -> str:
    """The name to send for a GA event type in the given dialect."""
    return _GA_TO_BETA.get(ga_type, ga_type) if beta else ga_type


def parse_event(text: str | bytes) -> dict:
    """A received event: a JSON object with a str "type", the type under its GA name."""
    try:
        value = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"the event is not valid JSON: {exc}", "invalid_json") from None
    if not isinstance(value, dict):
        raise ProtocolError("an event must be a JSON object", "invalid_event")
    event_id = value.get("event_id") if isinstance(value.get("event_id"), str) else None
    kind = value.get("type")
    if not isinstance(kind, str) or not kind:
        raise ProtocolError("an event needs a string \"type\"", "missing_type", event_id)
    value["type"] = canonical(kind)
    return value


def new_id(prefix: str) -> str:
    """A fresh identifier like the protocol's: `item_...`, `resp_...`, `sess_...`."""
    return f"{prefix}_{uuid.uuid4().hex[:22]}"


def event(type: str, **fields: Any) -> dict:
    """An event of this (GA) type with a fresh `event_id` and the given fields."""
    return {"type": type, "event_id": new_id("event"), **fields}


def error_event(message: str, code: str, *, event_id: str | None = None,
                kind: str = "invalid_request_error") -> dict:
    """The `error` event telling a client which of its events (if known) went wrong and why."""
    return event("error", error={"type": kind, "code": code, "message": message,
                                 "param": None, "event_id": event_id})


def encode_audio(pcm: np.ndarray) -> str:
    """int16 mono samples as base64 little-endian PCM16."""
    return base64.b64encode(np.asarray(pcm, dtype="<i2").tobytes()).decode("ascii")


def decode_audio(data: str) -> np.ndarray:
    """base64 PCM16 as int16 samples; anything else is a ProtocolError."""
    if not isinstance(data, str):
        raise ProtocolError("audio must be a base64 string", "invalid_audio")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("audio is not valid base64", "invalid_audio") from None
    if len(raw) % 2:
        raise ProtocolError("audio is not 16-bit PCM (odd number of bytes)", "invalid_audio")
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)


@dataclass(frozen=True)
class SessionConfig:
    """The part of a Realtime session koe honours, in either dialect."""

    instructions: str = ""
    server_vad: bool = True
    create_response: bool = True
    interrupt_response: bool = True
    silence_duration_ms: int = 500
    prefix_padding_ms: int = 300
    threshold: float = 0.5
    transcribe_input: bool = True
    voice: str = "koe"

    def updated(self, session: dict) -> SessionConfig:
        """This config with a session.update's `session` applied (GA nested or beta flat)."""
        if not isinstance(session, dict):
            raise ProtocolError("session must be an object", "invalid_value")
        changes: dict[str, Any] = {}
        if "instructions" in session:
            changes["instructions"] = _typed(session["instructions"], str, "instructions")
        audio = session.get("audio")
        if audio is not None:
            audio_in = _object(_object(audio, "audio").get("input", {}), "audio.input")
            audio_out = _object(audio.get("output", {}), "audio.output")
            if "turn_detection" in audio_in:
                changes.update(_turn_detection(audio_in["turn_detection"]))
            if "transcription" in audio_in:
                changes["transcribe_input"] = audio_in["transcription"] is not None
            if "voice" in audio_out:
                changes["voice"] = _typed(audio_out["voice"], str, "voice")
        if "turn_detection" in session:
            changes.update(_turn_detection(session["turn_detection"]))
        if "input_audio_transcription" in session:
            changes["transcribe_input"] = session["input_audio_transcription"] is not None
        if "voice" in session:
            changes["voice"] = _typed(session["voice"], str, "voice")
        return replace(self, **changes)

    def to_wire(self, beta: bool) -> dict:
        """The session object as sent in session.created/updated (or session.update)."""
        turns = self._turn_detection_wire()
        transcription = {"model": "whisper"} if self.transcribe_input else None
        if beta:
            return {"modalities": ["text", "audio"], "instructions": self.instructions,
                    "voice": self.voice, "input_audio_format": "pcm16",
                    "output_audio_format": "pcm16",
                    "input_audio_transcription": transcription, "turn_detection": turns}
        pcm = {"type": "audio/pcm", "rate": RATE}
        return {"type": "realtime", "instructions": self.instructions,
                "output_modalities": ["audio"],
                "audio": {"input": {"format": pcm, "transcription": transcription,
                                    "turn_detection": turns},
                          "output": {"format": pcm, "voice": self.voice}}}

    def _turn_detection_wire(self) -> dict | None:
        if not self.server_vad:
            return None
        return {"type": "server_vad", "threshold": self.threshold,
                "prefix_padding_ms": self.prefix_padding_ms,
                "silence_duration_ms": self.silence_duration_ms,
                "create_response": self.create_response,
                "interrupt_response": self.interrupt_response}


def session_update(config: SessionConfig, beta: bool) -> dict:
    """The client's session.update event carrying this config."""
    return event("session.update", session=config.to_wire(beta))


def _turn_detection(value: object) -> dict[str, Any]:
    """SessionConfig changes for a turn_detection object, or null (no server VAD)."""
    if value is None:
        return {"server_vad": False}
    turns = _object(value, "turn_detection")
    if turns.get("type", "server_vad") not in ("server_vad", "semantic_vad"):
        raise ProtocolError(f"unsupported turn_detection type {turns.get('type')!r}",
                            "invalid_value")
    changes: dict[str, Any] = {"server_vad": True}
    for key in ("create_response", "interrupt_response"):
        if turns.get(key) is not None:
            changes[key] = _typed(turns[key], bool, f"turn_detection.{key}")
    for key in ("silence_duration_ms", "prefix_padding_ms"):
        if turns.get(key) is not None:
            ms = _typed(turns[key], int, f"turn_detection.{key}")
            if not 0 <= ms <= 10_000:
                raise ProtocolError(f"turn_detection.{key} must be 0..10000 ms", "invalid_value")
            changes[key] = ms
    if turns.get("threshold") is not None:
        threshold = _typed(turns["threshold"], (int, float), "turn_detection.threshold")
        if not 0.0 <= threshold <= 1.0:
            raise ProtocolError("turn_detection.threshold must be 0..1", "invalid_value")
        changes["threshold"] = float(threshold)
    return changes


def _object(value: object, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(f"{name} must be an object", "invalid_value")
    return value


def _typed(value: object, kind: type | tuple[type, ...], name: str) -> Any:
    # bool is an int in Python; the protocol keeps them apart
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ProtocolError(f"{name} has the wrong type", "invalid_value")
    return value
