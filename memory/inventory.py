"""What the store holds: counts, size on disk, time span, conversations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from koe.memory.forgetting.compact import folder_size
from koe.memory.records import MemoryRecord, from_metadata, is_piece, stored_time
from koe.memory.store import MemoryStore


@dataclass(frozen=True)
class ConversationInfo:
    id: str
    first: float
    last: float
    turns: int
    summary: MemoryRecord | None = None


@dataclass(frozen=True)
class Stats:
    location: str
    memories: int
    by_role: dict[str, int] = field(default_factory=dict)
    conversations: int = 0
    index_entries: int = 0  # memories plus the extra pieces of long ones
    bytes_on_disk: int | None = None  # None for a Chroma server
    oldest: float | None = None
    newest: float | None = None


def stats(store: MemoryStore) -> Stats:
    roles: Counter[str] = Counter()
    conversations: set[str] = set()
    times: list[float] = []
    entries = 0
    for page in store.pages(include=("metadatas",)):
        for entry_id, meta in zip(page["ids"], page["metadatas"], strict=True):
            entries += 1
            if is_piece(entry_id):
                continue
            meta = meta or {}
            roles[str(meta.get("role"))] += 1
            conversations.add(str(meta.get("conversation")))
            times.append(stored_time(meta))
    path = store.connection.path
    return Stats(
        location=store.location, memories=sum(roles.values()), by_role=dict(roles),
        conversations=len(conversations), index_entries=entries,
        bytes_on_disk=folder_size(path) if path is not None else None,
        oldest=min(times, default=None), newest=max(times, default=None))


def conversations(store: MemoryStore, since: float | None = None) -> list[ConversationInfo]:
    """Every conversation (or those active since `since`), most recent last."""
    found: dict[str, list[MemoryRecord]] = {}
    for page in store.pages(include=("documents", "metadatas")):
        for entry_id, document, meta in zip(page["ids"], page["documents"], page["metadatas"],
                                            strict=True):
            if is_piece(entry_id):
                continue
            record = from_metadata(entry_id, document, meta or {})
            found.setdefault(record.conversation, []).append(record)
    result = []
    for conversation_id, records in found.items():
        turns = [r for r in records if r.role != "summary"]
        summaries = [r for r in records if r.role == "summary"]
        times = [r.timestamp for r in turns or records]
        if since is not None and max(times) < since:
            continue
        result.append(ConversationInfo(conversation_id, min(times), max(times), len(turns),
                                   summaries[-1] if summaries else None))
    result.sort(key=lambda c: (c.last, c.id))
    return result
