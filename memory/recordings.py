"""Recordings remembered: a transcript stored as memories that cite their file and time.

A recording becomes one conversation ("recording-<hash>" of its name and start): its
transcript in passages of up to PASSAGE_SECONDS (cut where Whisper's segments end), each a
memory with source "recording", the file's name and its offset into the file, timed at the
moment it was said (recording start + offset), so "Monday's meeting" finds it; plus one
summary naming the file, its date and length. Remembering the same recording again replaces
its memories; `forget` with a recording's name removes them all.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from koe.memory.errors import MemoryInputError
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from koe.memory.summary import extractive_summary, summary_id
from koe.memory.when.phrases import local_zone

PASSAGE_SECONDS = 60.0
PASSAGE_CHARS = 900  # within memory.chunk_chars' smallest value's reach: one piece each


@dataclass(frozen=True)
class Spoken:
    """A stretch of the recording: seconds from its start, and what was said."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class RememberedRecording:
    name: str
    conversation: str
    started: float  # UTC epoch seconds
    memories: int  # passages stored (the summary aside)
    summary: MemoryRecord | None
    seconds: float  # how long remembering took


def clock(seconds: float) -> str:
    """12:34, or 1:02:03 past the hour: how a time in a recording is cited."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def recording_conversation(name: str, started: float) -> str:
    digest = hashlib.sha1(f"{name}\0{started:.3f}".encode()).hexdigest()[:16]
    return f"recording-{digest}"


def passages(said: Sequence[Spoken], max_seconds: float = PASSAGE_SECONDS,
             max_chars: int = PASSAGE_CHARS) -> list[Spoken]:
    """Consecutive stretches joined into passages of at most max_seconds / max_chars (a
    single longer stretch stays whole)."""
    out: list[Spoken] = []
    current: list[Spoken] = []
    for part in said:
        if not part.text.strip():
            continue
        if current and (part.end - current[0].start > max_seconds
                        or sum(len(p.text) + 1 for p in current) + len(part.text) > max_chars):
            out.append(_join(current))
            current = []
        current.append(part)
    if current:
        out.append(_join(current))
    return out


def _join(parts: Sequence[Spoken]) -> Spoken:
    return Spoken(parts[0].start, parts[-1].end, " ".join(" ".join(p.text.split())
                                                           for p in parts))


def remember_recording(store: MemoryStore, name: str, started: float, said: Sequence[Spoken],
                       duration: float, user: str | None = None) -> RememberedRecording:
    """Store a recording's transcript (replacing what was remembered of it before)."""
    began = time.perf_counter()
    if not name.strip():
        raise MemoryInputError("a recording needs a name")
    conversation = recording_conversation(name, started)
    user = user or store.settings.user
    records = [MemoryRecord(
        id=f"{conversation}-{i:05d}", text=p.text, role="user", conversation=conversation,
        timestamp=started + p.start, user=user, source="recording", recording=name,
        offset=round(p.start, 3)) for i, p in enumerate(passages(said))]
    summary = _summary(store, name, started, duration, conversation, records, user)
    earlier = {r.id for r in store.records(conversation=conversation)}
    kept = {r.id for r in records} | ({summary.id} if summary else set())
    store.delete(sorted(earlier - kept))
    store.add_many([*records, *([summary] if summary else [])])
    return RememberedRecording(name, conversation, started, len(records), summary,
                               time.perf_counter() - began)


def _summary(store: MemoryStore, name: str, started: float, duration: float,
             conversation: str, records: Sequence[MemoryRecord], user: str
             ) -> MemoryRecord | None:
    if not records:
        return None
    when = datetime.fromtimestamp(started, UTC).astimezone(local_zone(store.settings.timezone))
    gist = extractive_summary(records, store.settings.summary_chars).removeprefix("User: ")
    text = (f"Recording {name} ({when:%a %d %b %Y %H:%M}, {clock(duration)} long): {gist}")
    return MemoryRecord(id=summary_id(conversation), text=text, role="summary",
                        conversation=conversation, timestamp=started, user=user,
                        source="recording", recording=name, offset=0.0)
