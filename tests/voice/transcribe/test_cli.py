"""`koe transcribe` and `koe doctor` as a user runs them: a real process, real files."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import srt
import webvtt

from koe.voice.stt.segments import Transcript, TranscriptSegment
from koe.voice.stt.speech_set import SpeechClip
from koe.voice.stt.wer import normalise
from koe.voice.transcribe.job import FileResult
from koe.voice.transcribe.progress import JsonLinesReporter, TerminalReporter
from tests.audio_files import tone, write_audio

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def koe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "koe.voice.cli", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=os.environ.copy(), timeout=300)


@pytest.fixture
def jfk(speech: list[SpeechClip], tmp_path: Path) -> Path:
    clip = next(c for c in speech if c.path.name == "jfk.flac")
    return Path(shutil.copy(clip.path, tmp_path / "jfk.flac"))


def starts_like_jfk(text: str) -> bool:
    """Compared as normalised words: punctuation and casing differ by CPU."""
    return normalise(text)[:5] == ["and", "so", "my", "fellow", "americans"]


def test_all_formats_written_beside_the_file(jfk: Path) -> None:
    run = koe("transcribe", str(jfk), "--format", "all", "--word-timestamps")
    assert run.returncode == 0, run.stderr
    subs = list(srt.parse((jfk.parent / "jfk.srt").read_text()))
    assert "ask not what your country" in " ".join(normalise(" ".join(s.content for s in subs)))
    captions = webvtt.read(str(jfk.parent / "jfk.vtt"))
    assert captions[0].start == "00:00:00.000"
    data = json.loads((jfk.parent / "jfk.json").read_text())
    assert data["language"] == "en" and data["model"] == "tiny.en"
    assert data["segments"][0]["words"] and "avg_logprob" in data["segments"][0]
    assert starts_like_jfk((jfk.parent / "jfk.txt").read_text())


def test_bad_files_do_not_stop_the_good_ones(jfk: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.mp3").write_text("not audio\n" * 100)
    cut = write_audio(tmp_path / "cut.wav", tone(6.0, 16000), 16000)
    cut.write_bytes(cut.read_bytes()[:40_000])
    out = tmp_path / "out"
    run = koe("transcribe", str(tmp_path / "missing.wav"), str(tmp_path / "empty.wav"),
              str(jfk), str(tmp_path / "notes.mp3"), str(cut), "-o", str(out))
    assert run.returncode == 1
    errors = run.stderr.splitlines()
    assert f"koe: error: {tmp_path / 'missing.wav'}: no such file" in errors
    assert f"koe: error: {tmp_path / 'empty.wav'}: file is empty" in errors
    assert any(line.startswith(f"koe: error: {tmp_path / 'notes.mp3'}: not a readable audio")
               for line in errors)
    assert any(f"{cut}: truncated" in line for line in errors)
    # The good file and the readable part of the truncated one were still transcribed.
    assert (out / "jfk.txt").read_text().strip()
    assert (out / "cut.txt").exists()


def test_json_lines_for_scripts(jfk: Path, tmp_path: Path) -> None:
    run = koe("transcribe", str(jfk), str(tmp_path / "missing.wav"), "--json",
              "-o", str(tmp_path))
    assert run.returncode == 1
    events = [json.loads(line) for line in run.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and "progress" in kinds and "finished" in kinds
    finished = next(e for e in events if e["event"] == "finished")
    assert finished["outputs"] == [str(tmp_path / "jfk.txt")] and finished["speed"] > 0
    assert events[-1]["event"] == "error" and events[-1]["file"] == str(tmp_path / "missing.wav")


def test_stdout_output_streams_text(jfk: Path) -> None:
    run = koe("transcribe", str(jfk), "-o", "-")
    assert run.returncode == 0
    assert starts_like_jfk(run.stdout)
    assert not list(jfk.parent.glob("jfk.txt"))


def test_quiet_when_not_a_terminal(jfk: Path) -> None:
    run = koe("transcribe", str(jfk))
    assert run.returncode == 0 and run.stdout == "" and run.stderr == ""


def test_offline_upstream_model_is_a_clear_error(jfk: Path) -> None:
    run = koe("transcribe", str(jfk), "--model", "large-v3")
    assert run.returncode == 1
    assert "Whisper model 'large-v3' is not on this computer" in run.stderr
    assert "hint:" in run.stderr


def test_bad_flag_value_is_a_config_error(jfk: Path) -> None:
    run = koe("transcribe", str(jfk), "--beam-size", "0")
    assert run.returncode == 2
    assert "bad value for stt.beam_size: 0 (from the command line)" in run.stderr


def test_doctor_reports_models_and_devices() -> None:
    run = koe("doctor", "--json")
    checks = {c["name"]: c for c in map(json.loads, run.stdout.splitlines())}
    assert checks["model stt.model = tiny.en"]["ok"]
    assert checks["model stt.multilingual_model = base"]["ok"]
    assert checks["config"]["ok"]
    failed = [c for c in checks.values() if not c["ok"]]
    # Sound devices are what `koe run` needs: without them the rest of koe is still fine.
    assert checks["audio microphone"]["needed_by"] == "koe run"
    problems = [c for c in failed if not c.get("needed_by")]
    assert run.returncode == (1 if problems else 0)
    assert all(c["hint"] for c in failed)


def test_doctor_names_a_broken_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[stt]\nmodle = 'x'\n")
    run = koe("--config", str(bad), "doctor")
    assert run.returncode == 1
    assert f"FAIL  config: unknown setting stt.modle (from {bad})" in run.stdout


def _result(path: Path, duration: float, elapsed: float) -> FileResult:
    transcript = Transcript(str(path), duration, "en", "tiny.en",
                            [TranscriptSegment(0.0, duration, "hello")])
    return FileResult(path, transcript, [path.with_suffix(".txt")], elapsed=elapsed)


def test_terminal_bar_shows_audio_done_and_speed() -> None:
    err = io.StringIO()
    clock = [100.0]
    reporter = TerminalReporter(err=err, now=lambda: clock[0], tick_seconds=0.01)
    path = Path("talk.wav")
    reporter.started(path, 120.0)
    assert "talk.wav [----------------------------]   0%  0:00/2:00  working" in err.getvalue()
    clock[0] += 2.0  # two seconds pass
    reporter.segment(path, TranscriptSegment(0.0, 60.0, "hello"), elapsed=2.0)
    bar = r"talk.wav \[#{14}-{14}\]  50%  1:00/2:00  30\.0x real time"
    assert re.search(bar, err.getvalue())
    # The ticker redraws in between segments, so the bar never looks frozen.
    deadline = time.monotonic() + 30
    while err.getvalue().count(" 50%  1:00/2:00") < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    reporter.finished(_result(path, 120.0, 4.0))
    screen = err.getvalue()
    assert screen.count(" 50%  1:00/2:00") >= 2
    assert "talk.wav: 2:00 of audio in 4.0 s (30.0x real time) -> talk.txt" in screen


def test_json_reporter_lines_are_json() -> None:
    out = io.StringIO()
    reporter = JsonLinesReporter(out=out)
    reporter.finished(_result(Path("a.wav"), 10.0, 2.0))
    assert json.loads(out.getvalue())["speed"] == 5.0


def test_an_unknown_language_stops_the_run_before_any_file(jfk: Path) -> None:
    other = jfk.with_name("other.flac")
    shutil.copy(jfk, other)
    run = koe("transcribe", str(jfk), str(other), "--language", "xx")
    assert run.returncode == 2
    lines = run.stderr.splitlines()
    assert lines[0].startswith("koe: error: bad value for stt.language: 'xx' (from the command "
                               "line): not a language Whisper knows")
    assert len(lines) == 2 and lines[1].startswith("  hint: ")
    assert sorted(p.name for p in jfk.parent.iterdir()) == ["jfk.flac", "other.flac"]


def test_a_language_in_capitals_is_taken(jfk: Path) -> None:
    run = koe("transcribe", str(jfk), "--language", "EN", "-o", "-")
    assert run.returncode == 0, run.stderr
    assert starts_like_jfk(run.stdout)
