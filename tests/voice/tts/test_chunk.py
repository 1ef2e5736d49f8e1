"""What a listener heard of a chunk when playback stopped part-way."""

from __future__ import annotations

import numpy as np

from koe.voice.tts.chunk import SpokenChunk, heard_text

RATE = 1000


def chunk(text: str, lead: float = 0.1, voiced: float = 1.0, tail: float = 0.1) -> SpokenChunk:
    """Silence, a steady tone, silence: the shape of a synthesised sentence."""
    tone = (8000 * np.sin(np.arange(int(voiced * RATE)) * 0.7) + 9000).astype(np.int16)
    silence = np.zeros(int(lead * RATE), np.int16), np.zeros(int(tail * RATE), np.int16)
    return SpokenChunk(text, np.concatenate([silence[0], tone, silence[1]]), RATE)


def test_words_heard_follow_the_voiced_audio() -> None:
    spoken = chunk("one two three four")  # words end at characters 3, 7, 13, 18
    assert spoken.seconds == 1.2
    assert spoken.voiced == (100, 1100)
    assert spoken.heard(0.0) == ""
    assert spoken.heard(0.1) == ""  # lead-in silence: nothing said yet
    assert spoken.heard(0.1 + 0.5) == "one two"  # half the speech: 9 of 18 characters
    assert spoken.heard(0.1 + 0.75) == "one two three"
    assert spoken.heard(1.1) == "one two three four"
    assert spoken.heard(5.0) == "one two three four"


def test_reply_heard_across_chunks() -> None:
    chunks = [chunk("Hello there."), chunk("How are you today?")]
    assert heard_text(chunks, 0.0) == ""
    assert heard_text(chunks, 1.2) == "Hello there."
    assert heard_text(chunks, 1.2 + 0.1 + 0.5) == "Hello there. How are"
    assert heard_text(chunks, 10.0) == "Hello there. How are you today?"


def test_silent_chunk_is_heard_only_when_played_through() -> None:
    quiet = SpokenChunk("hm", np.zeros(100, np.int16), RATE)
    assert quiet.heard(0.05) == ""
    assert quiet.heard(0.1) == "hm"
