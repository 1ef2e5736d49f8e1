"""Export and import as JSON lines: ids, times and every field round-trip exactly.

One memory per line, oldest first: {"id", "text", "role", "conversation", "timestamp"
(UTC epoch seconds, the exact stored value), "time" (the same as ISO 8601, for people),
"user", "source", "interrupted", "spoken"}. Importing a file twice changes nothing:
memories are replaced by id. A line that cannot be a memory (not UTF-8, not JSON, a missing
field, a time outside 1900-2999, NaN) is skipped and reported by line number, and the
import goes on; a timestamp in JavaScript milliseconds is converted, with a note.
An export to a file is written whole or not at all: an existing backup is never cut short.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

from koe.config.errors import KoeError
from koe.memory.durable import write_atomically
from koe.memory.errors import MemoryInputError
from koe.memory.records import MemoryRecord, is_piece
from koe.memory.store import MemoryStore

BATCH = 256
# (line number, what happened)
Remark = Callable[[int, str], None]


@dataclass
class ImportReport:
    imported: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    notes: list[tuple[int, str]] = field(default_factory=list)  # imported, but read so


class ExportError(KoeError):
    """The export file cannot be written."""


def export_jsonl(store: MemoryStore, out: TextIO) -> int:
    count = 0
    for record in store.records():
        out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
        count += 1
    out.flush()
    return count


def export_to_file(store: MemoryStore, target: Path) -> int:
    """Export into `target` (mode 0600, memories are private) by way of a temporary file in
    the same folder, renamed over `target` only when every line is written."""
    try:
        return write_atomically(target, lambda out: export_jsonl(store, out))
    except OSError as exc:
        kept = " (the file there was left as it was)" if target.exists() else ""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ExportError(f"disk full: cannot write {target}{kept}",
                              hint="free some space on that disk, or export elsewhere "
                                   "(-o FILE)") from exc
        raise ExportError(f"cannot write {target}: {(exc.strerror or str(exc)).lower()}{kept}",
                          hint="export to a folder you can write (-o FILE)") from exc


def import_jsonl(store: MemoryStore, lines: Iterable[bytes] | BinaryIO,
                 on_skip: Remark | None = None, on_note: Remark | None = None
                 ) -> ImportReport:
    report = ImportReport()
    batch: list[MemoryRecord] = []
    for number, raw in enumerate(lines, start=1):
        try:
            parsed = parse_line(raw)
            if parsed is None:
                continue
            record, note = parsed
            store.check(record)
        except (ValueError, MemoryInputError) as exc:
            reason = str(exc).removeprefix("cannot store memory: ")
            report.skipped.append((number, reason))
            if on_skip:
                on_skip(number, reason)
            continue
        if note:
            report.notes.append((number, note))
            if on_note:
                on_note(number, note)
        batch.append(record)
        if len(batch) >= BATCH:
            report.imported += store.add_many(_dedupe(batch))
            batch = []
    if batch:
        report.imported += store.add_many(_dedupe(batch))
    return report


def parse_line(raw: bytes) -> tuple[MemoryRecord, str] | None:
    """A record and a note on how it was read, None for a blank line; ValueError saying
    why a line is unusable."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    except RecursionError:
        raise ValueError("not a memory (JSON nested too deeply)") from None
    if isinstance(data, dict) and is_piece(str(data.get("id", ""))):
        raise ValueError("an index piece, not a memory")
    try:
        return MemoryRecord.from_json_noted(data)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(str(exc)) from None


def _dedupe(batch: list[MemoryRecord]) -> list[MemoryRecord]:
    """The last line wins when a file repeats an id."""
    return list({r.id: r for r in batch}.values())
