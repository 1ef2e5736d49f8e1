"""Conversation items: the words of an assistant item a listener heard after some audio."""

from __future__ import annotations

import numpy as np

from koe.voice.realtime.items import AssistantItem, UserItem
from koe.voice.tts.chunk import SpokenChunk

RATE = 22050


def chunk(text: str, seconds: float) -> SpokenChunk:
    return SpokenChunk(text, np.full(int(seconds * RATE), 3000, dtype=np.int16), RATE)


def test_an_item_hears_its_chunks_in_order() -> None:
    item = AssistantItem("item_1", chunks=[chunk("One two three four.", 2.0),
                                           chunk("Five six.", 1.0)])
    assert item.audio_ms == 3000
    assert item.transcript == "One two three four. Five six."
    assert item.heard(0) == ""
    assert item.heard(1000) == "One two"
    assert item.heard(2000) == "One two three four."
    assert item.heard(3000) == item.transcript


def test_a_truncated_item_shows_what_was_heard() -> None:
    item = AssistantItem("item_1", status="incomplete", chunks=[chunk("One two three four.", 2)])
    item.truncated_ms = 1000
    wire = item.to_wire(beta=False)
    assert wire["content"] == [{"type": "output_audio", "transcript": "One two"}]
    assert item.to_wire(beta=True)["content"][0]["type"] == "audio"
    assert wire["status"] == "incomplete" and wire["role"] == "assistant"


def test_user_items_on_the_wire() -> None:
    spoken = UserItem("item_2", "hello there").to_wire(beta=False)
    assert spoken["content"] == [{"type": "input_audio", "transcript": "hello there"}]
    typed = UserItem("item_3", "hi", audio=False).to_wire(beta=True)
    assert typed["content"] == [{"type": "input_text", "text": "hi"}]
