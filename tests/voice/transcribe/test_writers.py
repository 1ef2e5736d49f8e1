"""Transcript writers, checked with real subtitle parsers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import srt
import webvtt

from koe.voice.stt.segments import Transcript, TranscriptSegment, Word
from koe.voice.transcribe.writers import timestamp, to_json, to_srt, to_txt, to_vtt, write_outputs


def sample() -> Transcript:
    words = (Word(0.0, 0.4, " Hello", 0.9), Word(0.5, 1.1, " world.", 0.8))
    return Transcript("a.wav", 3725.5, "en", "tiny.en", [
        TranscriptSegment(0.0, 1.2, "Hello world.", -0.2, 0.01, words),
        TranscriptSegment(1.5, 1.5, "Zero-length cue, which players refuse.", -0.3, 0.02),
        TranscriptSegment(3599.999, 3725.25,
                          "A long line that must be wrapped for the screen because nobody "
                          "reads eighty characters at once, café.", -0.4, 0.05),
    ])


def test_timestamp_rolls_over_hours() -> None:
    assert timestamp(3725.25, ",") == "01:02:05,250"
    assert timestamp(59.9996, ".") == "00:01:00.000"
    assert timestamp(-0.1, ",") == "00:00:00,000"


def test_srt_parses_with_srt_library() -> None:
    subs = list(srt.parse(to_srt(sample())))
    assert [s.index for s in subs] == [1, 2, 3]
    assert subs[0].start.total_seconds() == 0.0 and subs[0].end.total_seconds() == 1.2
    assert subs[1].end > subs[1].start
    assert subs[2].end.total_seconds() == 3725.25
    assert subs[2].content.replace("\n", " ").endswith("at once, café.")
    assert all(len(line) <= 42 for line in subs[2].content.splitlines())


def test_vtt_parses_with_webvtt_library() -> None:
    captions = webvtt.from_buffer(io.StringIO(to_vtt(sample())))
    assert [c.start for c in captions] == ["00:00:00.000", "00:00:01.500", "00:59:59.999"]
    assert captions[0].text == "Hello world."
    assert captions[2].end == "01:02:05.250"


def test_json_has_every_field() -> None:
    data = json.loads(to_json(sample()))
    assert data["language"] == "en" and data["duration"] == 3725.5
    first = data["segments"][0]
    assert set(first) == {"id", "start", "end", "text", "avg_logprob", "no_speech_prob", "words"}
    assert first["words"][1] == {"start": 0.5, "end": 1.1, "word": " world.", "probability": 0.8}
    assert data["text"].startswith("Hello world. Zero-length")


def test_txt_one_line_per_segment() -> None:
    assert to_txt(sample()).splitlines()[0] == "Hello world."


def test_write_outputs_leaves_no_partial_files(tmp_path: Path) -> None:
    written = write_outputs(sample(), ["txt", "srt", "vtt", "json"], tmp_path / "out", "talk")
    assert sorted(p.name for p in written) == ["talk.json", "talk.srt", "talk.txt", "talk.vtt"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in written)
