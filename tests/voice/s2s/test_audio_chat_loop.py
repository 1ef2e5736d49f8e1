"""`koe run`'s loop in audio-chat mode, in file mode with real parts (Whisper hears the
questions, real memory, Piper speaks the stand-in endpoint's replies): memories recalled for
koe's transcript go up in the system message with the utterance, the reply plays as it
streams, a barge-in stops it, and both sides are kept in memory as heard."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from koe.memory.store import MemoryStore
from koe.voice.stt.transcriber import Transcriber
from koe.voice.stt.wer import normalise
from koe.voice.tts.script import Line
from tests.voice.assistant.helpers import question_file, words_said
from tests.voice.s2s.fake_audio_chat import FakeAudioChat
from tests.voice.s2s.fake_realtime import Reply
from tests.voice.s2s.helpers import FACT, REPLIES, converse, s2s_settings, spoken

pytestmark = pytest.mark.slow


def test_audio_chat_turns_with_memory_and_barge_in(tmp_path: Path,
                                                    transcriber: Transcriber) -> None:
    settings = s2s_settings(tmp_path, "http://127.0.0.1:1/v1", mode="audio-chat")
    settings.listen.speculate_seconds = 0.0  # one request per question: replies keep order
    with MemoryStore.open(settings.memory) as store:
        store.add_turn("user", FACT, "earlier", at=time.time() - 3 * 86400)
    # The third question comes 5 s after the second: over its long reply.
    question_file(tmp_path / "q.wav", [Line("When is my sister Hannah's birthday?", 8.0),
                                       Line("Tell me a long story.", 5.0),
                                       Line("Wait, one more thing.", 8.0)])
    fake = FakeAudioChat([Reply(text, spoken(text)) for text in REPLIES])
    reports = converse("audio-chat", settings, fake, tmp_path / "q.wav", tmp_path / "r.wav")

    assert len(fake.requests) == 3
    first = fake.requests[0]["messages"]
    assert first[0]["role"] == "system" and "twelfth of May" in first[0]["content"]
    assert first[-1]["content"][0]["type"] == "input_audio"
    assert "hannah" in " ".join(normalise(reports[0].transcript))
    assert reports[0].memories and "Hannah" in reports[0].memories[0]
    # Earlier turns go up as text, as they were heard.
    later = fake.requests[1]["messages"]
    assert [m["role"] for m in later[1:3]] == ["user", "assistant"]
    assert later[2]["content"].strip() == REPLIES[0]

    assert len(reports) == 3
    assert not reports[0].interrupted and reports[0].spoken.strip() == REPLIES[0]
    story = reports[1]
    assert story.interrupted and story.spoken and REPLIES[1].startswith(story.spoken)
    assert len(story.spoken) < len(REPLIES[1]) / 2
    heard = words_said(transcriber, tmp_path / "r.wav")
    assert "may" in heard and {"once", "upon"} & set(heard) and "harbour" not in heard

    with MemoryStore.open(settings.memory) as store:
        turns = sorted((r for r in store.records() if r.conversation != "earlier"),
                       key=lambda r: r.timestamp)
    assert [r.role for r in turns] == ["user", "assistant"] * 3
    assert turns[1].text.strip() == REPLIES[0] and not turns[1].interrupted
    assert turns[3].interrupted and turns[3].spoken == story.spoken
    assert {"wait", "thing"} & set(normalise(turns[4].text))
