"""koe's Realtime client against a stand-in for a hosted Realtime API (beta event names) over a
real WebSocket, with real parts around it (Whisper, memory, Piper's voice for the replies):
memories in the session before each response, the reply played, barge-in cancelling and
truncating to what was played, and both sides kept in memory as heard."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from koe.memory.store import MemoryStore
from koe.voice.stt.wer import normalise
from koe.voice.tts.script import Line
from tests.voice.assistant.helpers import first_sound_after, question_file
from tests.voice.s2s.fake_realtime import RATE, FakeRealtime, Reply
from tests.voice.s2s.helpers import FACT, REPLIES, converse, s2s_settings, spoken

pytestmark = pytest.mark.slow
QUESTIONS = ["When is my sister Hannah's birthday?", "Tell me a long story.",
             "Wait, one more thing."]


def keywords(text: str) -> set[str]:
    return set(normalise(text)) & {"hannah", "birthday", "long", "story", "wait", "thing"}


@pytest.mark.parametrize("turns", ["server", "local"])
def test_memories_barge_in_and_transcripts_over_beta_events(tmp_path: Path, turns: str) -> None:
    """Server VAD (the endpoint's transcripts), or koe's own endpointing (Whisper's, each
    utterance committed whole; speculation off, so that each is one response)."""
    settings = s2s_settings(tmp_path, "http://127.0.0.1:1/v1", dialect="beta",
                            turn_detection=turns)
    settings.listen.speculate_seconds = 0.0
    with MemoryStore.open(settings.memory) as store:
        store.add_turn("user", FACT, "earlier", at=time.time() - 3 * 86400)
    # The third question comes 3.5 s after the second: over its long reply.
    said = question_file(tmp_path / "q.wav", [Line(QUESTIONS[0], 8.0), Line(QUESTIONS[1], 3.5),
                                              Line(QUESTIONS[2], 8.0)])
    fake = FakeRealtime(QUESTIONS, [Reply(text, spoken(text)) for text in REPLIES])
    reports = converse("realtime", settings, fake, tmp_path / "q.wav", tmp_path / "r.wav", 1.0)

    assert fake.headers[0].get("OpenAI-Beta") == "realtime=v1"
    assert fake.headers[0].get("Authorization") is None  # no key in the environment
    # Before each response, the session's instructions carried the recalled memory.
    sent = [e for e in fake.received if e["type"] != "input_audio_buffer.append"]
    first_response = [e["type"] for e in sent].index("response.create")
    update = [e for e in sent[:first_response] if e["type"] == "session.update"][-1]
    assert "Hannah" in update["session"]["instructions"]
    assert "twelfth of May" in update["session"]["instructions"]
    if turns == "server":
        assert update["session"]["turn_detection"]["create_response"] is False
        assert not fake.of_type("input_audio_buffer.commit")
    else:
        assert update["session"]["turn_detection"] is None
        assert sent[first_response - 1]["type"] == "input_audio_buffer.commit"
    assert len(fake.of_type("response.create")) == 3
    assert fake.of_type("input_audio_buffer.append")  # the microphone went up

    assert len(reports) == 3
    for report, asked in zip(reports, QUESTIONS, strict=True):
        assert len(keywords(report.transcript) & keywords(asked)) >= 1
    assert reports[0].memories and "Hannah" in reports[0].memories[0]
    assert reports[0].first_audio > said[0].end
    assert not reports[0].interrupted and reports[0].spoken.strip() == REPLIES[0]
    assert first_sound_after(tmp_path / "r.wav", said[0].end) is not None
    # The barge-in: the response cancelled and truncated to what was played.
    story = reports[1]
    assert story.interrupted and story.barge_in is not None
    assert fake.of_type("response.cancel")
    truncate = fake.of_type("conversation.item.truncate")
    assert len(truncate) == 1 and truncate[0]["content_index"] == 0
    played_ms = (story.stopped - story.first_audio) * 1000
    assert abs(truncate[0]["audio_end_ms"] - played_ms) < 150
    assert 0 < truncate[0]["audio_end_ms"] < len(spoken(REPLIES[1])) * 1000 / RATE
    assert story.spoken and REPLIES[1].startswith(story.spoken)
    assert len(story.spoken) < len(REPLIES[1]) / 2

    with MemoryStore.open(settings.memory) as store:
        kept = sorted((r for r in store.records() if r.conversation != "earlier"),
                      key=lambda r: r.timestamp)
    assert [r.role for r in kept] == ["user", "assistant"] * 3
    assert kept[1].text.strip() == REPLIES[0] and not kept[1].interrupted
    assert REPLIES[1].startswith(kept[3].text.strip())
    assert kept[3].interrupted and kept[3].spoken == story.spoken
    assert kept[5].text.strip() == REPLIES[2]
    assert {r.source for r in kept} == {"voice"}


def test_a_reply_that_comes_after_the_microphone_ended_is_played_and_kept(
        tmp_path: Path) -> None:
    """A slow endpoint answers once the input file is over: the run waits for the reply,
    plays it whole and keeps both turns before it ends."""
    settings = s2s_settings(tmp_path, "http://127.0.0.1:1/v1", dialect="beta")
    question_file(tmp_path / "q.wav", [Line(QUESTIONS[0], 1.0)])
    fake = FakeRealtime(QUESTIONS, [Reply(REPLIES[0], spoken(REPLIES[0]))], think_seconds=3.0)
    reports = converse("realtime", settings, fake, tmp_path / "q.wav", tmp_path / "r.wav", 1.0)

    assert len(reports) == 1 and reports[0].spoken.strip() == REPLIES[0]
    assert not reports[0].interrupted
    with MemoryStore.open(settings.memory) as store:
        kept = sorted(store.records(), key=lambda r: r.timestamp)
    assert [(r.role, r.text.strip()) for r in kept] == [("user", QUESTIONS[0]),
                                                        ("assistant", REPLIES[0])]
