"""The conversation items of a Realtime session, as koe keeps them and as they go on the wire.

A user item holds what was said (its transcript, or the text the client sent); an assistant
item holds the spoken chunks whose audio went out, so that a truncation can tell which words
the listener heard, and the memory record that stores it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from koe.voice.realtime.events import ProtocolError, new_id
from koe.voice.tts.chunk import SpokenChunk, heard_text

ItemStatus = Literal["in_progress", "completed", "incomplete"]


@dataclass
class UserItem:
    id: str
    text: str = ""
    audio: bool = True  # from the input audio buffer; False: text sent by the client

    def to_wire(self, beta: bool) -> dict:
        if self.audio:
            part = {"type": "input_audio", "transcript": self.text or None}
        else:
            part = {"type": "input_text", "text": self.text}
        return {"id": self.id, "object": "realtime.item", "type": "message", "role": "user",
                "status": "completed", "content": [part]}


@dataclass
class AssistantItem:
    id: str
    status: ItemStatus = "in_progress"
    chunks: list[SpokenChunk] = field(default_factory=list)  # whose audio was sent
    record_id: str | None = None  # the reply's memory record, once stored
    truncated_ms: int | None = None

    @property
    def transcript(self) -> str:
        return " ".join(chunk.text for chunk in self.chunks)

    @property
    def audio_ms(self) -> int:
        return round(sum(chunk.seconds for chunk in self.chunks) * 1000)

    def heard(self, audio_end_ms: int) -> str:
        """The words a listener heard in full after `audio_end_ms` of this item's audio."""
        return heard_text(self.chunks, audio_end_ms / 1000)

    def part(self, beta: bool) -> dict:
        return {"type": "audio", "transcript": self.transcript}

    def to_wire(self, beta: bool) -> dict:
        kind = "audio" if beta else "output_audio"
        transcript = self.heard(self.truncated_ms) if self.truncated_ms is not None \
            else self.transcript
        return {"id": self.id, "object": "realtime.item", "type": "message",
                "role": "assistant", "status": self.status,
                "content": [{"type": kind, "transcript": transcript}]}


def user_item(item: object) -> UserItem:
    """The user message a client adds with conversation.item.create (its input_text parts)."""
    if not isinstance(item, dict) or item.get("type", "message") != "message":
        raise ProtocolError("only message items are supported", "unsupported_item")
    if item.get("role") != "user":
        raise ProtocolError("only user messages can be added", "unsupported_item")
    content = item.get("content")
    parts = content if isinstance(content, list) else []
    texts = [part["text"] for part in parts if isinstance(part, dict)
             and part.get("type") == "input_text" and isinstance(part.get("text"), str)]
    if not texts:
        raise ProtocolError("a user message needs input_text content", "unsupported_item")
    given = item.get("id")
    return UserItem(given if isinstance(given, str) and given else new_id("item"),
                    " ".join(texts), audio=False)
