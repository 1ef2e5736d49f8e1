"""Batch transcription of recordings: decode, transcribe, write, report progress."""

from __future__ import annotations

import errno
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from koe.config.errors import AudioError, KoeError
from koe.config.schema import TranscribeSettings
from koe.voice.audio.files import decode_file
from koe.voice.stt.segments import Transcript, TranscriptSegment
from koe.voice.stt.transcriber import Transcriber
from koe.voice.transcribe.plan import STDOUT, output_location
from koe.voice.transcribe.writers import write_outputs

__all__ = ["STDOUT", "FileResult", "Reporter", "output_location", "transcribe_file",
           "transcribe_files"]


@dataclass
class FileResult:
    path: Path
    transcript: Transcript | None = None
    outputs: list[Path] = field(default_factory=list)
    error: str = ""  # why the file failed, one line; empty on success
    hint: str = ""
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def speed(self) -> float:
        """Audio seconds per wall-clock second ("x real time")."""
        if not self.transcript or self.elapsed <= 0:
            return 0.0
        return self.transcript.duration / self.elapsed


class Reporter(Protocol):
    """Where a transcription job tells of its progress (terminal, JSON lines, nothing)."""

    def started(self, path: Path, audio_seconds: float) -> None: ...
    def segment(self, path: Path, segment: TranscriptSegment, elapsed: float) -> None: ...
    def finished(self, result: FileResult) -> None: ...


def transcribe_file(path: Path, transcriber: Transcriber, settings: TranscribeSettings,
                    reporter: Reporter) -> FileResult:
    """Transcribe one file; a failure is reported in the result, never raised."""
    result = FileResult(path)
    began = time.perf_counter()
    folder = output_location(path, settings)
    try:
        try:
            audio = decode_file(path)
        except OSError as exc:  # unreadable, or a name the system refuses
            raise AudioError(f"{path}: cannot read it: {_reason(exc)}") from exc
        reporter.started(path, audio.seconds)
        batch = settings.batch_size if audio.seconds >= _batch_threshold(settings) else 0
        run = transcriber.transcribe(
            audio.samples, word_timestamps=settings.word_timestamps, batch_size=batch,
            batch_chunk_seconds=settings.batch_chunk_seconds,
            repair_skipped=settings.repair_skipped,
        )
        transcript = Transcript(str(path), audio.seconds, run.language,
                                transcriber.resolved.requested)
        for segment in run.segments:
            transcript.segments.append(segment)
            reporter.segment(path, segment, time.perf_counter() - began)
        result.transcript = transcript
        if folder is not None:
            result.outputs = write_outputs(transcript, list(settings.formats), folder, path.stem)
        if audio.truncated:
            result.error = (f"{path}: truncated: decoded {audio.seconds:.1f} s of the "
                            f"{audio.declared_seconds:.1f} s its header declares; "
                            "transcribed what was readable")
    except KoeError as exc:
        result.error, result.hint = str(exc), exc.hint
    except BrokenPipeError:
        raise  # standard output went away: the command line stops quietly
    except OSError as exc:
        result.error = f"{path}: cannot write the transcript to {folder}: {_reason(exc)}"
        result.hint = "check the folder is writable and has free space"
    result.elapsed = time.perf_counter() - began
    reporter.finished(result)
    return result


def transcribe_files(paths: Iterable[Path], transcriber: Transcriber,
                     settings: TranscribeSettings, reporter: Reporter) -> list[FileResult]:
    return [transcribe_file(p, transcriber, settings, reporter) for p in paths]


def _reason(exc: OSError) -> str:
    return "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc)).lower()


def _batch_threshold(settings: TranscribeSettings) -> float:
    return settings.batch_min_seconds if settings.batch_min_seconds > 0 else float("inf")
