"""A transcription run never overwrites an input, never writes one output twice, finds out
before any work that it cannot write, and leaves no partial file behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from koe.config.schema import TranscribeSettings
from koe.voice.stt.segments import Transcript, TranscriptSegment
from koe.voice.transcribe.plan import RunRefused, plan_run
from koe.voice.transcribe.writers import write_outputs
from tests.privileges import as_unprivileged, small_disk

SETTINGS = TranscribeSettings()
ALL = TranscribeSettings(formats=["txt", "srt", "vtt", "json"])


def koe(*args: str, **popen: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "koe.voice", *args], capture_output=True,
                          text=True, timeout=300, env=os.environ.copy(), **popen)


def test_two_inputs_writing_one_output_are_refused(tmp_path: Path) -> None:
    wav, mp3 = tmp_path / "rec.wav", tmp_path / "rec.mp3"
    with pytest.raises(RunRefused, match=r"rec\.wav and .*rec\.mp3 would both write .*rec\.txt"):
        plan_run([wav, mp3], SETTINGS)


def test_an_output_that_is_the_input_is_refused(tmp_path: Path) -> None:
    clip = tmp_path / "clip.txt"
    clip.write_bytes(b"audio")
    with pytest.raises(RunRefused, match="would overwrite the recording itself"):
        plan_run([clip], SETTINGS)


def test_an_output_that_is_another_input_is_refused(tmp_path: Path) -> None:
    notes, talk = tmp_path / "talk.json", tmp_path / "talk.mp3"
    notes.write_bytes(b"{}")
    with pytest.raises(RunRefused, match="would overwrite the input"):
        plan_run([talk, notes], ALL)


def test_a_hard_link_to_an_input_is_the_input(tmp_path: Path) -> None:
    rec = tmp_path / "rec.wav"
    rec.write_bytes(b"audio")
    out = tmp_path / "out"
    out.mkdir()
    os.link(rec, out / "rec.txt")
    with pytest.raises(RunRefused, match="would overwrite"):
        plan_run([rec], TranscribeSettings(output_dir=str(out)))


def test_the_same_file_named_twice_is_one_input(tmp_path: Path) -> None:
    rec = tmp_path / "rec.wav"
    assert plan_run([rec, tmp_path / "." / "rec.wav"], SETTINGS).inputs == (rec,)


@given(names=st.lists(st.sampled_from(["a.wav", "a.mp3", "a.txt", "b.flac", "b.json",
                                       "sub/a.wav", "c.srt"]), min_size=1, max_size=5),
       formats=st.lists(st.sampled_from(["txt", "srt", "vtt", "json"]), min_size=1,
                        max_size=4, unique=True))
def test_a_plan_is_refused_or_writes_each_output_once_and_no_input(
        tmp_path_factory: pytest.TempPathFactory, names: list[str], formats: list[str]) -> None:
    folder = tmp_path_factory.mktemp("run")
    paths = [folder / n for n in names]
    for p in paths:
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"x")
    try:
        plan = plan_run(paths, TranscribeSettings(formats=formats))
    except RunRefused:
        return
    outputs = [o.resolve() for outs in plan.outputs.values() for o in outs]
    assert len(outputs) == len(set(outputs))
    assert not set(outputs) & {p.resolve() for p in paths}


def test_a_folder_that_is_a_file_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("")
    with pytest.raises(RunRefused, match=f"cannot write transcripts to {blocker}/deeper: "):
        plan_run([tmp_path / "a.wav"], TranscribeSettings(output_dir=str(blocker / "deeper")))


def test_a_folder_that_cannot_be_written_is_named_before_any_work(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    rec = tmp_path / "rec.wav"
    rec.write_bytes(b"audio")
    # A model that does not exist: had the run got as far as loading it, that would be the error.
    run = koe("transcribe", str(rec), "-o", str(locked / "out"), "--model", str(tmp_path / "no"),
              **as_unprivileged())
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines()[0] == (
        f"koe: error: cannot write transcripts to {locked / 'out'}: permission denied")
    assert "Traceback" not in run.stderr


def test_collisions_are_refused_before_the_model_loads(tmp_path: Path) -> None:
    wav, mp3 = tmp_path / "rec.wav", tmp_path / "rec.mp3"
    wav.write_bytes(b"a")
    mp3.write_bytes(b"b")
    run = koe("transcribe", str(wav), str(mp3), "--model", str(tmp_path / "no-such-model"))
    assert run.returncode == 2
    assert run.stderr.splitlines()[0].endswith(f"would both write {tmp_path / 'rec.txt'}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.mp3", "rec.wav"]


def fill(path: Path) -> None:
    """Write `path` until its disk is full."""
    with path.open("wb", buffering=0) as f, pytest.raises(OSError):
        while True:
            f.write(b"\0" * 65536)


def transcript() -> Transcript:
    return Transcript("rec.wav", 2.0, "en", "tiny.en",
                      [TranscriptSegment(0.0, 2.0, "hello " * 2000)])


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    (tmp_path / "rec.srt").mkdir()  # the write itself succeeds, putting it in place fails
    with pytest.raises(OSError):
        write_outputs(transcript(), ["txt", "srt"], tmp_path, "rec")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.srt", "rec.txt"]


def test_a_full_disk_leaves_no_partial_file_and_keeps_the_old_one() -> None:
    with small_disk() as disk:
        old = disk / "rec.txt"
        old.write_text("the transcript from last time\n")
        fill(disk / "filler")
        with pytest.raises(OSError):
            write_outputs(transcript(), ["txt"], disk, "rec")
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "rec.txt"]
        assert old.read_text() == "the transcript from last time\n"


@pytest.mark.slow
def test_a_full_disk_is_said_with_the_folder(speech: list, tmp_path: Path) -> None:
    clip = next(c for c in speech if c.path.name == "LDC93S1.wav")
    rec = Path(shutil.copy(clip.path, tmp_path / "rec.wav"))
    with small_disk() as disk:
        fill(disk / "filler")
        run = koe("transcribe", str(rec), "-o", str(disk))
        left = sorted(p.name for p in disk.iterdir())
    assert run.returncode == 1
    assert f"cannot write the transcript to {disk}: disk full" in run.stderr
    assert "Traceback" not in run.stderr
    assert left == ["filler"]
