"""Transcript writers: plain text, SubRip, WebVTT and JSON."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

from koe.voice.stt.segments import Transcript, TranscriptSegment

# Subtitle lines longer than this are wrapped, as broadcast guidelines advise.
SUBTITLE_LINE_CHARS = 42


def timestamp(seconds: float, separator: str) -> str:
    """HH:MM:SS<sep>mmm, the clock both SRT (',') and WebVTT ('.') use."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cue_text(segment: TranscriptSegment) -> str:
    return "\n".join(textwrap.wrap(segment.text.strip(), SUBTITLE_LINE_CHARS)) or "..."


def _cue_times(segment: TranscriptSegment) -> tuple[float, float]:
    # Players reject cues that end before they start; give such a cue a visible instant.
    return segment.start, max(segment.end, segment.start + 0.001)


def to_txt(transcript: Transcript) -> str:
    return "".join(f"{s.text.strip()}\n" for s in transcript.segments if s.text.strip())


def to_srt(transcript: Transcript) -> str:
    cues = []
    for index, segment in enumerate(transcript.segments, start=1):
        start, end = _cue_times(segment)
        cues.append(
            f"{index}\n{timestamp(start, ',')} --> {timestamp(end, ',')}\n{_cue_text(segment)}\n"
        )
    return "\n".join(cues)


def to_vtt(transcript: Transcript) -> str:
    cues = ["WEBVTT\n"]
    for segment in transcript.segments:
        start, end = _cue_times(segment)
        cues.append(f"{timestamp(start, '.')} --> {timestamp(end, '.')}\n{_cue_text(segment)}\n")
    return "\n".join(cues)


def to_json(transcript: Transcript) -> str:
    data = {
        "source": transcript.source,
        "duration": round(transcript.duration, 3),
        "language": transcript.language,
        "model": transcript.model,
        "text": transcript.text,
        "segments": [
            {"id": i, **segment.to_dict()} for i, segment in enumerate(transcript.segments)
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


WRITERS: dict[str, Callable[[Transcript], str]] = {
    "txt": to_txt,
    "srt": to_srt,
    "vtt": to_vtt,
    "json": to_json,
}


def write_outputs(transcript: Transcript, formats: list[str], out_dir: Path, stem: str
                  ) -> list[Path]:
    """Write one file per format, each atomically: a failure (a full disk, Ctrl-C) leaves the
    previous file as it was and no partial file behind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        target = out_dir / f"{stem}.{fmt}"
        # The process id keeps two runs writing the same transcript from sharing a file.
        tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            tmp.write_text(WRITERS[fmt](transcript), encoding="utf-8")
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(target)
    return written
