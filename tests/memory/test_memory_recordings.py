"""Recordings remembered: passages that cite their file and time, found by what was said
and by when; remembered again, replaced; forgotten by name. End to end with real Whisper."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from koe.memory.forgetting.forget import forget, select
from koe.memory.forgetting.request import ForgetRequest
from koe.memory.recall import memory_block, recall
from koe.memory.recordings import Spoken, remember_recording
from koe.memory.store import MemoryStore
from tests.memory.helpers import ROOT, run_koe, write_config

MONDAY_10 = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
WEDNESDAY = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)
MEETING = [Spoken(0.0, 4.0, "Good morning everyone, let's start the planning meeting."),
           Spoken(4.0, 30.0, "First the budget: we keep it at twelve thousand pounds."),
           Spoken(70.0, 78.0, "We decided to move the product launch to the fourteenth of "
                              "April."),
           Spoken(80.0, 85.0, "Thanks all, see you next week.")]


def _recorded(store: MemoryStore) -> list:
    return store.records(source="recording")


def test_a_recording_is_found_with_its_file_and_time(store: MemoryStore) -> None:
    done = remember_recording(store, "meeting.m4a", MONDAY_10.timestamp(), MEETING, 90.0)
    assert done.memories == 2 and done.summary is not None  # passages cut at 60 s
    assert "meeting.m4a" in done.summary.text
    found = recall(store, "What did we decide in Monday's meeting recording?", 3,
                   now=WEDNESDAY)
    assert all(r.record.recording == "meeting.m4a" for r in found)
    passage = next(r for r in found if r.record.role == "user" and "launch" in r.text)
    assert passage.record.recording == "meeting.m4a" and passage.record.offset == 70.0
    assert passage.record.source == "recording"
    assert passage.record.timestamp == MONDAY_10.timestamp() + 70.0
    assert 'recording meeting.m4a 1:10: "We decided to move the product launch' in \
        memory_block(found, now=WEDNESDAY)
    # Found by its words as well, without a date.
    assert recall(store, "when is the product launch now?", 1, now=WEDNESDAY)[0].record.id \
        == passage.record.id


def test_remembered_again_it_is_replaced_and_forgotten_by_name(store: MemoryStore) -> None:
    store.add_turn("user", "The launch party needs a cake.", "chat", at=MONDAY_10)
    remember_recording(store, "meeting.m4a", MONDAY_10.timestamp(), MEETING, 90.0)
    first = {r.id for r in _recorded(store)}
    remember_recording(store, "meeting.m4a", MONDAY_10.timestamp(), MEETING[:2], 30.0)
    again = _recorded(store)
    assert len(again) == 2 and {r.id for r in again} < first  # a passage and the summary
    other = remember_recording(store, "standup.m4a", MONDAY_10.timestamp() + 3600,
                               MEETING[2:], 20.0)
    chosen = select(store, ForgetRequest(recording="meeting.m4a"))
    assert {r.recording for r in chosen} == {"meeting.m4a"} and len(chosen) == 2
    forget(store, chosen)
    assert {r.conversation for r in _recorded(store)} == {other.conversation}
    assert [r.text for r in store.records(source="text") + store.records(conversation="chat")
            ] == ["The launch party needs a cake."]


def _meeting_file(path: Path) -> Path:
    """An M4A recording made at 2026-11-23 10:00 UTC (its creation_time tag): a question,
    55 s of quiet, then President Kennedy's line at 65 s (both from docs/samples)."""
    from koe.voice.audio.files import SAMPLE_RATE, decode_file

    first = decode_file(ROOT / "docs" / "samples" / "question.ogg").samples
    second = decode_file(ROOT / "docs" / "samples" / "jfk.ogg").samples
    audio = np.concatenate([first, np.zeros(SAMPLE_RATE * 55, np.float32), second])
    with av.open(str(path), "w") as container:
        container.metadata["creation_time"] = "2026-11-23T10:00:00.000000Z"
        stream = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        stream.time_base = Fraction(1, SAMPLE_RATE)
        size = stream.codec_context.frame_size or 1024
        for start in range(0, len(audio), size):
            frame = av.AudioFrame.from_ndarray(audio[None, start:start + size].copy(),
                                               format="fltp", layout="mono")
            frame.sample_rate, frame.pts = SAMPLE_RATE, start
            frame.time_base = Fraction(1, SAMPLE_RATE)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.mark.slow
def test_koe_transcribe_remember_then_search_list_and_forget(tmp_path: Path) -> None:
    recording = _meeting_file(tmp_path / "meeting.m4a")
    config = str(write_config(tmp_path / "koe.toml", path=str(tmp_path / "store"),
                              timezone="UTC"))
    done = run_koe("--config", config, "transcribe", str(recording), "--remember", "-o",
                   str(tmp_path / "out"), timeout=600)
    assert done.code == 0, done.err
    assert "remembered meeting.m4a (recorded 2026-11-23 10:00, from its metadata)" in done.err
    found = run_koe("--config", config, "memory", "search", "what can I do for my country",
                    "-k", "1", "--json")
    top = json.loads(found.out.splitlines()[0])
    assert top["recording"] == "meeting.m4a" and top["source"] == "recording"
    assert 63.0 <= top["offset"] <= 68.0, top  # Kennedy speaks from 65 s
    started = datetime(2026, 11, 23, 10, 0, tzinfo=UTC).timestamp()
    assert top["timestamp"] == pytest.approx(started + top["offset"])
    listed = run_koe("--config", config, "memory", "list", "--source", "recording")
    assert "[meeting.m4a 1:0" in listed.out and "Recording meeting.m4a" in listed.out
    gone = run_koe("--config", config, "memory", "forget", "--recording", "meeting.m4a",
                   "--yes")
    assert gone.code == 0, gone.err
    assert run_koe("--config", config, "memory", "list", "--source", "recording").out == ""
