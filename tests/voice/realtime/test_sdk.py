"""The official `openai` SDK's Realtime clients (GA, and beta with its header) holding a spoken
conversation with `koe serve realtime`: a third-party client, unchanged."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from koe.voice.realtime.events import RATE
from koe.voice.tts.synthesizer import PiperSynthesizer
from tests.voice.realtime.helpers import Served, spoken, words
from tests.voice.realtime.sdk import converse

pytestmark = pytest.mark.slow


def test_the_ga_client_holds_a_spoken_conversation(served: Served,
                                                   voice: PiperSynthesizer) -> None:
    questions = [spoken(voice, "What is the capital of France?"),
                 spoken(voice, "And what is the capital of Italy?")]
    turns = asyncio.run(converse(served.base_url, questions, beta=False))
    assert [t.errors for t in turns] == [[], []]
    assert [t.status for t in turns] == ["completed", "completed"]
    assert "paris" in words(turns[0].transcript)
    assert "rome" in words(turns[1].transcript)
    for turn in turns:
        assert turn.audio.size > RATE // 2
        said = words(served.transcribe(turn.audio))
        assert len(said & words(turn.transcript)) >= len(words(turn.transcript)) / 2


def test_the_beta_client_speaks_the_beta_names(served: Served,
                                               voice: PiperSynthesizer) -> None:
    turns = asyncio.run(converse(served.base_url, [spoken(voice, "What is two plus two?")],
                                 beta=True))
    turn = turns[0]
    assert turn.errors == [] and turn.status == "completed"
    assert "response.audio.delta" in turn.types and "response.output_audio.delta" not in turn.types
    assert "conversation.item.created" in turn.types
    assert words(turn.transcript) & {"four", "4"}
    assert np.abs(turn.audio).max() > 1000
