"""Forgetting: choose memories (by id, conversation, age or meaning), delete them, and on
the embedded store compact so the text and vectors leave the files on disk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from koe.memory.compact import CompactReport, compact
from koe.memory.records import MemoryRecord, Moment, record_id
from koe.memory.store import MemoryStore

# Cosine similarity a memory needs to match `--matching QUERY` by meaning alone.
DEFAULT_THRESHOLD = 0.5
MATCH_LIMIT = 200


@dataclass(frozen=True)
class ForgetReport:
    forgotten: int
    compaction: CompactReport | None


def select(store: MemoryStore, *, ids: Sequence[str] = (), conversation: str | None = None,
           before: Moment = None, matching: str | None = None,
           threshold: float = DEFAULT_THRESHOLD) -> list[MemoryRecord]:
    """The memories a forget request names, oldest first (no duplicates)."""
    chosen: dict[str, MemoryRecord] = {}
    if ids:
        chosen.update((r.id, r) for r in store.get([record_id(i) for i in ids]))
    if conversation is not None:
        chosen.update((r.id, r) for r in store.records(conversation=conversation))
    if before is not None:
        chosen.update((r.id, r) for r in store.records(until=before))
    if matching:
        needle = matching.casefold()
        chosen.update((r.id, r) for r in store.records() if needle in r.text.casefold())
        for hit in store.search(matching, MATCH_LIMIT):
            if hit.similarity >= threshold:
                chosen.setdefault(hit.record.id, hit.record)
    return sorted(chosen.values(), key=lambda r: (r.timestamp, r.id))


def forget(store: MemoryStore, records: Sequence[MemoryRecord],
           compact_after: bool | None = None) -> ForgetReport:
    deleted = store.delete([r.id for r in records])
    if compact_after is None:
        compact_after = store.settings.compact_on_forget
    report = compact(store) if compact_after and store.embedded and deleted else None
    return ForgetReport(deleted, report)
