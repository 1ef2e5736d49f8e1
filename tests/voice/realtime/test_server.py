"""`koe serve realtime` with a raw WebSocket client over a real socket: a spoken question heard
by server VAD, transcribed, answered aloud; barge-in; a client that leaves mid-response."""

from __future__ import annotations

import pytest
from websockets.sync.client import connect

from koe.voice.realtime.events import RATE, SessionConfig
from koe.voice.tts.synthesizer import PiperSynthesizer
from tests.voice.realtime.helpers import Served, Wire, spoken, wait_for, words

pytestmark = pytest.mark.slow

QUESTION = "What is the capital of France?"
LONG = "Tell me a long story about a brave knight and a dragon, in at least ten sentences."
VERBOSE = "Whatever you are asked, answer at great length, with at least ten sentences."


def open_wire(served: Served, path: str = "/v1/realtime") -> Wire:
    ws = connect(f"ws://127.0.0.1:{served.realtime_port}{path}?model=koe")
    wire = Wire(ws)
    assert wire.recv()["type"] == "session.created"
    return wire


def ask_at_length(wire: Wire) -> dict:
    """A question with a long spoken answer; its response.created."""
    wire.send("session.update", session={"instructions": VERBOSE})
    wire.until("session.updated")
    wire.send("conversation.item.create", item={
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": LONG}]})
    wire.send("response.create")
    return wire.until("response.created")


def test_a_spoken_question_is_answered_aloud(served: Served, voice: PiperSynthesizer) -> None:
    wire = open_wire(served, "/realtime")
    with wire.ws:
        session = SessionConfig(instructions="Answer in one short sentence.",
                                silence_duration_ms=600).to_wire(beta=False)
        wire.send("session.update", session=session)
        updated = wire.until("session.updated")
        assert updated["session"]["audio"]["input"]["turn_detection"]["silence_duration_ms"] \
            == 600
        wire.append(spoken(voice, QUESTION))
        done = wire.until("response.done")
    types = wire.types()
    order = ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
             "input_audio_buffer.committed",
             "conversation.item.input_audio_transcription.completed", "response.created",
             "response.output_item.added", "response.content_part.added",
             "response.output_audio_transcript.delta", "response.output_audio.delta",
             "response.output_audio.done", "response.output_audio_transcript.done",
             "response.content_part.done", "response.output_item.done", "response.done"]
    assert [types.index(t) for t in order] == sorted(types.index(t) for t in order)
    assert "error" not in types
    started = next(e for e in wire.seen if e["type"] == "input_audio_buffer.speech_started")
    stopped = next(e for e in wire.seen if e["type"] == "input_audio_buffer.speech_stopped")
    assert started["item_id"] == stopped["item_id"]
    assert 0 < started["audio_start_ms"] < stopped["audio_end_ms"]
    heard = next(e for e in wire.seen
                 if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert heard["item_id"] == stopped["item_id"]
    assert len(words(heard["transcript"]) & {"capital", "france"}) >= 1
    assert done["response"]["status"] == "completed"
    transcript = next(e for e in wire.seen
                      if e["type"] == "response.output_audio_transcript.done")["transcript"]
    assert "paris" in words(transcript)
    said = words(served.transcribe(wire.audio()))
    assert "paris" in said or len(said & words(transcript)) >= len(words(transcript)) / 2
    rid = done["response"]["id"]
    session = wait_for(lambda: next((s for s in served.realtime.finished
                                     if any(r.id == rid for r in s.responses)), None))
    stored = [(r.role, r.source, r.text) for r in served.store_records()
              if r.conversation == session.conversation.id]
    assert stored[0] == ("user", "realtime", heard["transcript"])
    assert stored[1][:2] == ("assistant", "realtime")


def test_barge_in_keeps_only_the_words_heard(served: Served) -> None:
    wire = open_wire(served)
    with wire.ws:
        ask_at_length(wire)
        while len(wire.audio()) < 1.5 * RATE:
            wire.until("response.output_audio.delta")
        # the listener heard one second, then spoke over it
        wire.send("response.cancel")
        done = wire.until("response.done")
        assert done["response"]["status"] in ("cancelled", "completed")  # it may have ended
        item_id = done["response"]["output"][0]["id"]
        wire.send("conversation.item.truncate", item_id=item_id, content_index=0,
                  audio_end_ms=1000)
        truncated = wire.until("conversation.item.truncated")
        assert truncated["audio_end_ms"] == 1000
    session = wait_for(lambda: next((s for s in served.realtime.finished
                                     if item_id in s.assistant), None))
    item = session.assistant[item_id]
    heard = item.heard(1000)
    assert heard and len(heard.split()) < len(item.transcript.split())
    record = next(r for r in served.store_records() if r.id == item.record_id)
    assert record.interrupted and record.spoken == heard
    assert session.conversation.prompt.exchanges[-1].reply == heard


def test_speech_during_a_response_cancels_it(served: Served,
                                             voice: PiperSynthesizer) -> None:
    wire = open_wire(served)
    with wire.ws:
        ask_at_length(wire)
        wire.until("response.output_audio.delta")
        wire.append(spoken(voice, "Stop, please.", silence_after=0.2))
        done = wire.until("response.done")
        assert done["response"]["status"] == "cancelled"
        assert done["response"]["status_details"]["reason"] == "turn_detected"
        assert "input_audio_buffer.speech_started" in wire.types()


def test_a_client_leaving_mid_response_cancels_it(served: Served) -> None:
    wire = open_wire(served)
    with wire.ws:
        created = ask_at_length(wire)
        wire.until("response.output_audio.delta")
    rid = created["response"]["id"]
    session = wait_for(lambda: next((s for s in served.realtime.finished
                                     if any(r.id == rid for r in s.responses)), None))
    response = next(r for r in session.responses if r.id == rid)
    assert response.status == "cancelled"
    assert response.reply._task is not None and response.reply._task.done()  # stream closed
    record = next(r for r in served.store_records() if r.id == response.item.record_id)
    assert record.interrupted


def test_without_server_vad_the_client_commits_and_asks(served: Served,
                                                        voice: PiperSynthesizer) -> None:
    wire = open_wire(served)
    with wire.ws:
        wire.send("session.update", session={"type": "realtime", "audio": {"input": {
            "turn_detection": None}}})
        wire.until("session.updated")
        wire.append(spoken(voice, "Say hello."))
        wire.send("input_audio_buffer.clear")
        wire.until("input_audio_buffer.cleared")
        wire.append(spoken(voice, QUESTION, silence_after=0.3))
        wire.send("input_audio_buffer.commit")
        wire.send("response.create")
        done = wire.until("response.done")
    assert "input_audio_buffer.speech_started" not in wire.types()
    heard = [e["transcript"] for e in wire.seen
             if e["type"] == "conversation.item.input_audio_transcription.completed"]
    assert len(heard) == 1 and "hello" not in words(heard[0])
    assert words(heard[0]) & {"capital", "france"}
    assert done["response"]["status"] == "completed"
    assert "paris" in words(done["response"]["output"][0]["content"][0]["transcript"])
