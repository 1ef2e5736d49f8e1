"""The Realtime wire events: names in both dialects, parsing, audio, the session in both shapes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from koe.voice.realtime.events import (
    RATE,
    ProtocolError,
    SessionConfig,
    canonical,
    decode_audio,
    encode_audio,
    error_event,
    event,
    new_id,
    parse_event,
    session_update,
    wire_name,
)

BETA_PAIRS = [
    ("response.audio.delta", "response.output_audio.delta"),
    ("response.audio.done", "response.output_audio.done"),
    ("response.audio_transcript.delta", "response.output_audio_transcript.delta"),
    ("response.audio_transcript.done", "response.output_audio_transcript.done"),
    ("response.text.delta", "response.output_text.delta"),
    ("response.text.done", "response.output_text.done"),
    ("conversation.item.created", "conversation.item.added"),
]

configs = st.builds(
    SessionConfig,
    instructions=st.text(max_size=50),
    server_vad=st.booleans(),
    create_response=st.booleans(),
    interrupt_response=st.booleans(),
    silence_duration_ms=st.integers(0, 10_000),
    prefix_padding_ms=st.integers(0, 10_000),
    threshold=st.floats(0.0, 1.0),
    transcribe_input=st.booleans(),
    voice=st.text(min_size=1, max_size=10),
)


@pytest.mark.parametrize(("beta", "ga"), BETA_PAIRS)
def test_beta_names_map_to_ga_and_back(beta: str, ga: str) -> None:
    assert canonical(beta) == ga
    assert canonical(ga) == ga
    assert wire_name(ga, beta=True) == beta
    assert wire_name(ga, beta=False) == ga


def test_names_shared_by_both_dialects_pass_through() -> None:
    for name in ("session.update", "input_audio_buffer.append", "response.done", "error"):
        assert canonical(name) == name
        assert wire_name(name, beta=True) == name


def test_parse_event_canonicalises_the_type() -> None:
    parsed = parse_event(b'{"type": "response.audio.delta", "delta": "AA=="}')
    assert parsed == {"type": "response.output_audio.delta", "delta": "AA=="}


@pytest.mark.parametrize(("text", "code"), [
    ("{not json", "invalid_json"),
    (b"\xff\xfe", "invalid_json"),
    ("[1, 2]", "invalid_event"),
    ('"session.update"', "invalid_event"),
    ('{"event_id": "e1"}', "missing_type"),
    ('{"type": 3}', "missing_type"),
    ('{"type": ""}', "missing_type"),
])
def test_parse_event_refuses_what_is_not_an_event(text: str | bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_event(text)
    assert caught.value.code == code


def test_a_refused_event_keeps_its_event_id() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_event('{"event_id": "evt_7", "type": null}')
    assert caught.value.event_id == "evt_7"


def test_events_and_ids_are_fresh() -> None:
    first, second = event("session.updated", session={}), event("session.updated", session={})
    assert first["event_id"] != second["event_id"]
    assert first["type"] == "session.updated" and first["session"] == {}
    assert new_id("item").startswith("item_") and new_id("item") != new_id("item")


def test_error_event_names_the_event_at_fault() -> None:
    sent = error_event("no such event", "unknown_event", event_id="evt_1")
    assert sent["type"] == "error"
    assert sent["error"]["code"] == "unknown_event"
    assert sent["error"]["event_id"] == "evt_1"
    assert sent["error"]["type"] == "invalid_request_error"
    assert json.loads(json.dumps(sent)) == sent


@given(st.lists(st.integers(-32768, 32767), max_size=500))
def test_audio_round_trips(samples: list[int]) -> None:
    pcm = np.array(samples, dtype=np.int16)
    back = decode_audio(encode_audio(pcm))
    assert back.dtype == np.int16
    assert np.array_equal(back, pcm)


def test_audio_is_little_endian_pcm16() -> None:
    assert encode_audio(np.array([1, -2], dtype=np.int16)) == "AQD+/w=="


@pytest.mark.parametrize("data", ["not base64!", "AQD", "AQ==", 12, None])
def test_bad_audio_is_a_protocol_error(data: object) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_audio(data)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_audio"


@given(configs, st.booleans())
def test_session_round_trips_in_both_dialects(config: SessionConfig, beta: bool) -> None:
    wire = json.loads(json.dumps(config.to_wire(beta)))
    back = SessionConfig().updated(wire)
    if not config.server_vad:
        # with turn detection off its settings are not on the wire
        back = SessionConfig(**{**back.__dict__, **{
            key: getattr(config, key) for key in (
                "create_response", "interrupt_response", "silence_duration_ms",
                "prefix_padding_ms", "threshold")}})
    assert back == config


def test_ga_session_shape() -> None:
    wire = SessionConfig(instructions="be brief").to_wire(beta=False)
    assert wire["type"] == "realtime"
    assert wire["output_modalities"] == ["audio"]
    assert wire["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": RATE}
    assert wire["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert wire["audio"]["output"]["voice"] == "koe"


def test_beta_session_shape() -> None:
    wire = SessionConfig(server_vad=False).to_wire(beta=True)
    assert wire["input_audio_format"] == wire["output_audio_format"] == "pcm16"
    assert wire["turn_detection"] is None
    assert "text" in wire["modalities"] and "audio" in wire["modalities"]


def test_update_applies_only_what_is_present() -> None:
    config = SessionConfig(instructions="keep", silence_duration_ms=800)
    updated = config.updated({"audio": {"input": {"turn_detection": {
        "type": "server_vad", "silence_duration_ms": 300}}}})
    assert updated.instructions == "keep"
    assert updated.silence_duration_ms == 300
    assert updated.server_vad


def test_update_turns_server_vad_off_with_null() -> None:
    assert not SessionConfig().updated({"turn_detection": None}).server_vad
    assert not SessionConfig().updated({"audio": {"input": {"turn_detection": None}}}).server_vad
    assert not SessionConfig().updated({"input_audio_transcription": None}).transcribe_input


@pytest.mark.parametrize("session", [
    "realtime",
    {"instructions": 5},
    {"turn_detection": {"type": "push_to_talk"}},
    {"turn_detection": {"silence_duration_ms": "500"}},
    {"turn_detection": {"silence_duration_ms": -1}},
    {"turn_detection": {"threshold": 2}},
    {"turn_detection": {"create_response": 1}},
    {"audio": {"input": []}},
    {"audio": []},
])
def test_update_refuses_bad_values(session: object) -> None:
    with pytest.raises(ProtocolError) as caught:
        SessionConfig().updated(session)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_value"


def test_session_update_event_carries_the_config() -> None:
    sent = session_update(SessionConfig(voice="amy"), beta=True)
    assert sent["type"] == "session.update"
    assert sent["session"]["voice"] == "amy"
