"""Transcribed recordings into memory: when each was recorded, and its transcript stored.

The recording's time is, in order: `--at`; the container's own tags (creation_time in MP4,
M4A and MOV, the RIFF INFO date in WAV, date tags elsewhere); else the file's modification
time less its length (a recorder last writes the file when the recording stops).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import av

from koe.config.errors import KoeError, print_error
from koe.config.schema import Settings
from koe.memory.recordings import RememberedRecording, Spoken, remember_recording
from koe.memory.store import MemoryStore
from koe.memory.when.phrases import local_zone, parse_when
from koe.voice.stt.segments import Transcript
from koe.voice.transcribe.job import FileResult

DATE_TAGS = ("creation_time", "com.apple.quicktime.creationdate", "date", "icrd",
             "date_recorded", "recording_time")
# Tags that say 1904 or 1970 mean "never set" (the QuickTime and Unix zero times).
EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RecordedAt:
    started: float  # UTC epoch seconds
    source: str  # where the time came from, for the report


def recorded_at(path: Path, duration: float, zone: tzinfo, at: float | None = None
                ) -> RecordedAt:
    if at is not None:
        return RecordedAt(at, "--at")
    tagged = _tagged_time(path, zone)
    if tagged is not None:
        return RecordedAt(tagged.timestamp(), "its metadata")
    return RecordedAt(os.stat(path).st_mtime - duration, "the file's modification time")


def _tagged_time(path: Path, zone: tzinfo) -> datetime | None:
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            tags = [dict(container.metadata)] + [dict(s.metadata) for s in container.streams]
    except (av.error.FFmpegError, OSError, UnicodeDecodeError):
        return None
    latest = datetime.now(UTC) + timedelta(days=1)
    for found in tags:
        lowered = {str(k).lower(): str(v) for k, v in found.items()}
        for key in DATE_TAGS:
            moment = _parse(lowered.get(key, ""), zone)
            if moment is not None and EARLIEST <= moment <= latest:
                return moment
    return None


def _parse(text: str, zone: tzinfo) -> datetime | None:
    text = text.strip().replace("Z", "+00:00")
    if len(text) < 10:  # a year alone says too little
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)  # a local time


def remember_transcript(store: MemoryStore, transcript: Transcript, recorded: RecordedAt
                        ) -> RememberedRecording:
    said = [Spoken(s.start, s.end, s.text) for s in transcript.segments]
    return remember_recording(store, Path(transcript.source).name, recorded.started, said,
                              transcript.duration)


def remembered_line(done: RememberedRecording, recorded: RecordedAt, zone: tzinfo,
                    transcribe_seconds: float) -> str:
    when = datetime.fromtimestamp(done.started, UTC).astimezone(zone)
    share = f", {100 * done.seconds / transcribe_seconds:.1f} % of transcribing it" \
        if transcribe_seconds > 0 else ""
    return (f"remembered {done.name} (recorded {when:%Y-%m-%d %H:%M}, from {recorded.source}): "
            f"{done.memories} passages and a summary in {done.seconds:.1f} s{share}")


@contextlib.contextmanager
def remembering(settings: Settings, at: str | None, as_json: bool
                ) -> Iterator[Callable[[FileResult], bool]]:
    """The memory store, open for the whole job; yields remember(result) -> whether it was
    remembered (a failure is printed as one line, and the other files go on)."""
    zone = local_zone(settings.memory.timezone)
    started = None
    if at is not None:
        try:
            started = parse_when(at, datetime.now(zone)).since.timestamp()
        except ValueError as exc:
            raise KoeError(f"--at: {exc}", hint="e.g. --at 2026-11-23T10:00 or --at "
                                                "'yesterday 3pm'") from exc
    store = MemoryStore.open(settings.memory)
    for warning in store.warnings:
        print(f"koe: warning: {warning}", file=sys.stderr)

    def remember(result: FileResult) -> bool:
        assert result.transcript is not None
        try:
            recorded = recorded_at(result.path, result.transcript.duration, zone, started)
            done = remember_transcript(store, result.transcript, recorded)
        except KoeError as exc:
            print_error(f"{result.path}: not remembered: {exc}", exc.hint)
            return False
        if as_json:
            print(json.dumps({"event": "remembered", "path": str(result.path),
                              "recording": done.name, "conversation": done.conversation,
                              "recorded": done.started, "time_from": recorded.source,
                              "memories": done.memories, "seconds": round(done.seconds, 3)}),
                  flush=True)
        else:
            print(f"koe: {remembered_line(done, recorded, zone, result.elapsed)}",
                  file=sys.stderr)
        return True

    with store:
        yield remember
