"""`koe serve realtime` against clients that get it wrong: malformed and unknown events, bad
audio, oversized frames, a client that stops reading, a missing or wrong bearer token. Each
bad event gets an `error` event and the connection stays; memory stays bounded."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from koe.voice.realtime.access import Access
from koe.voice.realtime.server import Limits, RealtimeServer
from tests.voice.realtime.helpers import Served, Wire, wait_for
from tests.voice.realtime.rawsocket import RawWebSocket

pytestmark = pytest.mark.slow


def open_wire(port: int, **options: object) -> Wire:
    wire = Wire(connect(f"ws://127.0.0.1:{port}/v1/realtime", **options))
    assert wire.recv()["type"] == "session.created"
    return wire


@pytest.mark.parametrize(("message", "code"), [
    ("{not json", "invalid_json"),
    (b"\xff\x00", "invalid_json"),
    ("[]", "invalid_event"),
    ('{"type": 7}', "missing_type"),
    ('{"type": "conversation.item.delete", "event_id": "e9", "item_id": "x"}', "unknown_event"),
    ('{"type": "input_audio_buffer.append", "audio": "@@@"}', "invalid_audio"),
    ('{"type": "input_audio_buffer.append", "audio": "AA=="}', "invalid_audio"),
    ('{"type": "session.update", "session": {"audio": {"input": {"turn_detection": '
     '{"silence_duration_ms": "long"}}}}}', "invalid_value"),
    ('{"type": "response.cancel"}', "response_cancel_not_active"),
    ('{"type": "input_audio_buffer.commit"}', "input_audio_buffer_commit_empty"),
    ('{"type": "conversation.item.truncate", "item_id": "nope", "audio_end_ms": 5}',
     "item_not_found"),
    ('{"type": "conversation.item.create", "item": {"role": "system"}}', "unsupported_item"),
])
def test_a_bad_event_is_answered_and_the_connection_stays(served: Served, message: str | bytes,
                                                         code: str) -> None:
    wire = open_wire(served.realtime_port)
    with wire.ws:
        wire.ws.send(message)
        error = wire.until("error", timeout=30)
        assert error["error"]["code"] == code
        if "e9" in str(message):
            assert error["error"]["event_id"] == "e9"
        wire.send("session.update", session={"instructions": "still here"})
        assert wire.until("session.updated", timeout=30)["session"]["instructions"] \
            == "still here"


def test_an_oversized_event_is_refused_and_a_huge_frame_closes(served: Served) -> None:
    limits = served.realtime.limits
    wire = open_wire(served.realtime_port, max_size=None)
    with wire.ws:
        padding = "A" * (limits.max_event_bytes + 10)
        wire.ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": padding}))
        assert wire.until("error", timeout=30)["error"]["code"] == "event_too_large"
        wire.ws.send("x" * (limits.max_frame_bytes + 1))
        with pytest.raises(ConnectionClosed) as closed:
            wire.until("never", timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_a_client_that_stops_reading_is_cut_off(served: Served) -> None:
    """It asks for a long answer and never reads: the server does not buffer the answer; it
    gives up on the client after the send deadline, the response cancelled and kept."""
    strict = RealtimeServer(served.cascade, Access(), Limits(send_seconds=3.0))
    port = served.call(strict.start())
    try:
        with RawWebSocket(port, receive_buffer=4096) as client:
            client.send_json({"type": "conversation.item.create", "item": {
                "type": "message", "role": "user", "content": [{
                    "type": "input_text",
                    "text": "Tell me a long story about a lighthouse keeper and a storm."}]}})
            client.send_json({"type": "response.create"})
            session = wait_for(lambda: strict.finished and strict.finished[0], timeout=180)
    finally:
        served.call(strict.stop())
    response = session.responses[0]
    assert response.status == "cancelled"
    assert response.reply._task is not None and response.reply._task.done()
    # what went out fits the socket buffers: a few seconds of audio, not the whole story
    assert response.item.audio_ms < 30_000


def test_bound_elsewhere_it_needs_the_bearer_key(served: Served,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOE_TEST_KEY", "s3cret-key")
    access = Access.resolve("0.0.0.0", 0, "KOE_TEST_KEY")
    guarded = RealtimeServer(served.cascade, access)
    port = served.call(guarded.start())
    try:
        url = f"ws://127.0.0.1:{port}/v1/realtime"
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-key"}):
            with pytest.raises(InvalidStatus) as refused:
                connect(url, additional_headers=headers)
            assert refused.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as missing:
            connect(f"ws://127.0.0.1:{port}/v1/elsewhere",
                    additional_headers={"Authorization": "Bearer s3cret-key"})
        assert missing.value.response.status_code == 404
        with connect(url, additional_headers={"Authorization": "Bearer s3cret-key"}) as ws:
            assert json.loads(ws.recv(timeout=30))["type"] == "session.created"
    finally:
        served.call(guarded.stop())



def test_a_plain_http_request_is_told_to_use_a_websocket(
        served: Served, caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{served.realtime_port}/v1/realtime"
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 426 and "WebSocket" in answer.text
    assert not [r for r in caplog.records if r.exc_info]  # no traceback in the server's log
