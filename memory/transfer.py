"""Export and import as JSON lines: ids, times and every field round-trip exactly.

One memory per line, oldest first: {"id", "text", "role", "conversation", "timestamp"
(UTC epoch seconds, the exact stored value), "time" (the same as ISO 8601, for people),
"user", "source", "interrupted", "spoken"}. Importing a file twice changes nothing:
memories are replaced by id. Bad lines (not UTF-8, not JSON, missing fields) are skipped
and reported by line number; the rest is imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from koe.memory.records import MemoryRecord, is_piece
from koe.memory.store import MemoryStore

BATCH = 256


@dataclass
class ImportReport:
    imported: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def export_jsonl(store: MemoryStore, out: TextIO) -> int:
    count = 0
    for record in store.records():
        out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
        count += 1
    out.flush()
    return count


def import_jsonl(store: MemoryStore, lines: Iterable[bytes] | BinaryIO,
                 on_skip: Callable[[int, str], None] | None = None) -> ImportReport:
    report = ImportReport()
    batch: list[MemoryRecord] = []
    for number, raw in enumerate(lines, start=1):
        try:
            record = parse_line(raw)
        except ValueError as exc:
            report.skipped.append((number, str(exc)))
            if on_skip:
                on_skip(number, str(exc))
            continue
        if record is None:
            continue
        batch.append(record)
        if len(batch) >= BATCH:
            report.imported += store.add_many(_dedupe(batch))
            batch = []
    if batch:
        report.imported += store.add_many(_dedupe(batch))
    return report


def parse_line(raw: bytes) -> MemoryRecord | None:
    """A record, None for a blank line; ValueError saying why a line is unusable."""
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
    if isinstance(data, dict) and is_piece(str(data.get("id", ""))):
        raise ValueError("an index piece, not a memory")
    try:
        return MemoryRecord.from_json(data)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(str(exc)) from None


def _dedupe(batch: list[MemoryRecord]) -> list[MemoryRecord]:
    """The last line wins when a file repeats an id."""
    return list({r.id: r for r in batch}.values())
