"""How a transcription job shows itself: a progress bar, JSON lines, streamed text, or quiet."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from koe.config.errors import print_error
from koe.voice.stt.segments import TranscriptSegment
from koe.voice.transcribe.job import FileResult
from koe.voice.transcribe.writers import WRITERS

BAR_WIDTH = 28
REDRAW_SECONDS = 0.1
TICK_SECONDS = 0.5


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def report_error(result: FileResult, err: TextIO) -> None:
    print_error(result.error, result.hint, err)


@dataclass
class QuietReporter:
    """Nothing but errors (stdout is not a terminal)."""

    err: TextIO = field(default_factory=lambda: sys.stderr)

    def started(self, path: Path, audio_seconds: float) -> None:
        pass

    def segment(self, path: Path, segment: TranscriptSegment, elapsed: float) -> None:
        pass

    def finished(self, result: FileResult) -> None:
        if not result.ok:
            report_error(result, self.err)


@dataclass
class TerminalReporter(QuietReporter):
    """A live bar per file: audio done / total and speed as "x real time".

    The batched pipeline hands back segments a batch at a time, so a ticker redraws the
    elapsed time in between: the bar never looks frozen."""

    total: float = 0.0
    done: float = 0.0
    now: Callable[[], float] = time.monotonic  # the clock speed is measured by
    tick_seconds: float = TICK_SECONDS
    _last_draw: float = 0.0
    _began: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def started(self, path: Path, audio_seconds: float) -> None:
        self.total, self.done = audio_seconds, 0.0
        self._began = self.now()
        self._last_draw = 0.0
        self._draw(path)
        self._stop.clear()
        threading.Thread(target=self._tick, args=(path,), daemon=True).start()

    def segment(self, path: Path, segment: TranscriptSegment, elapsed: float) -> None:
        self.done = segment.end
        if self.now() - self._last_draw >= REDRAW_SECONDS:
            self._draw(path)

    def finished(self, result: FileResult) -> None:
        self._stop.set()
        with self._lock:
            self._finish(result)

    def _tick(self, path: Path) -> None:
        while not self._stop.wait(self.tick_seconds):
            self._draw(path)

    def _finish(self, result: FileResult) -> None:
        self.err.write("\r\x1b[2K")
        if result.transcript is not None:
            where = ", ".join(str(p) for p in result.outputs) or "stdout"
            print(f"{result.path.name}: {clock(result.transcript.duration)} of audio in "
                  f"{result.elapsed:.1f} s ({result.speed:.1f}x real time) -> {where}",
                  file=self.err)
        super().finished(result)
        self.err.flush()

    def _draw(self, path: Path) -> None:
        with self._lock:
            if self._stop.is_set() and self._last_draw:
                return
            self._last_draw = self.now()
            elapsed = self._last_draw - self._began
            fraction = min(1.0, self.done / self.total) if self.total else 0.0
            filled = round(fraction * BAR_WIDTH)
            speed = f"{self.done / elapsed:.1f}x real time" if self.done > 0 else "working"
            self.err.write(f"\r\x1b[2K{path.name} [{'#' * filled}{'-' * (BAR_WIDTH - filled)}]"
                           f" {fraction:4.0%}  {clock(self.done)}/{clock(self.total)}  {speed}"
                           f"  {elapsed:.0f} s")
            self.err.flush()


@dataclass
class JsonLinesReporter(QuietReporter):
    """One JSON object per line on stdout, for scripts (--json)."""

    out: TextIO = field(default_factory=lambda: sys.stdout)

    def started(self, path: Path, audio_seconds: float) -> None:
        self._emit(event="started", file=str(path), duration=round(audio_seconds, 3))

    def segment(self, path: Path, segment: TranscriptSegment, elapsed: float) -> None:
        self._emit(event="progress", file=str(path), done=round(segment.end, 3),
                   elapsed=round(elapsed, 3), text=segment.text)

    def finished(self, result: FileResult) -> None:
        if result.transcript is not None:
            self._emit(event="finished", file=str(result.path),
                       outputs=[str(p) for p in result.outputs],
                       duration=round(result.transcript.duration, 3),
                       elapsed=round(result.elapsed, 3), speed=round(result.speed, 2),
                       language=result.transcript.language)
        if not result.ok:
            self._emit(event="error", file=str(result.path), error=result.error,
                       hint=result.hint)

    def _emit(self, **event: object) -> None:
        self.out.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.out.flush()


@dataclass
class StdoutReporter(QuietReporter):
    """--output-dir -: text streams to stdout as it is heard; other formats follow whole."""

    formats: tuple[str, ...] = ("txt",)
    out: TextIO = field(default_factory=lambda: sys.stdout)

    def segment(self, path: Path, segment: TranscriptSegment, elapsed: float) -> None:
        if "txt" in self.formats:
            self.out.write(segment.text + "\n")
            self.out.flush()

    def finished(self, result: FileResult) -> None:
        if result.transcript is not None:
            for fmt in self.formats:
                if fmt != "txt":
                    self.out.write(WRITERS[fmt](result.transcript))
            self.out.flush()
        super().finished(result)
