"""Questions about time alone ("what did we talk about yesterday?"): each conversation in
the window by its summary, or, without one, by the first and last things the user said.

On the embedded store the window is read from the search index's time column (milliseconds
at any size); on a Chroma server from chromadb's metadata filter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from koe.memory.index.index import Narrowing, SearchIndex
from koe.memory.index.mirror import ROLE_CODES
from koe.memory.records import MemoryRecord, is_piece
from koe.memory.search.nearest import read_records

if TYPE_CHECKING:
    from koe.memory.store import MemoryStore


def window_overview(store: MemoryStore, k: int, since: float | None, until: float | None,
                    conversation: str | None, user: str | None) -> list[MemoryRecord]:
    """Up to k memories, the newest conversations', oldest first."""
    if k <= 0:
        return []
    if store.index is not None:
        picked = _picked_ids(store.index, Narrowing(since, until, conversation, user))
        records = read_records(store, picked[-k:])
    else:
        records = _picked(store.records(since=since, until=until, conversation=conversation,
                                        user=user))[-k:]
    return sorted(records, key=lambda r: (r.timestamp, r.id))


def _picked(records: list[MemoryRecord]) -> list[MemoryRecord]:
    by_conversation: dict[str, list[MemoryRecord]] = {}
    for record in records:
        by_conversation.setdefault(record.conversation, []).append(record)
    picked: list[MemoryRecord] = []
    for turns in by_conversation.values():
        summaries = [r for r in turns if r.role == "summary"]
        said = [r for r in turns if r.role == "user"] or turns
        picked += summaries[-1:] or list(dict.fromkeys([said[0], said[-1]]))
    picked.sort(key=lambda r: (r.timestamp, r.id))
    return picked


def _picked_ids(index: SearchIndex, narrowing: Narrowing) -> list[str]:
    """The same choice as _picked, made from the index's columns; ids oldest first."""
    with index.lock:
        mirror = index.mirror
        slots = [s for s in index.window(narrowing) if not is_piece(str(mirror.entries[s]))]
        by_conversation: dict[int, list[int]] = {}
        for slot in slots:  # oldest first
            by_conversation.setdefault(int(mirror.conversation[slot]), []).append(slot)
        summary, user = ROLE_CODES["summary"], ROLE_CODES["user"]
        picked: list[int] = []
        for turns in by_conversation.values():
            roles = mirror.role[turns]
            summaries = [s for s, r in zip(turns, roles, strict=True) if r == summary]
            said = [s for s, r in zip(turns, roles, strict=True) if r == user] or turns
            picked += summaries[-1:] or list(dict.fromkeys([said[0], said[-1]]))
        picked.sort(key=lambda s: (float(mirror.t[s]), str(mirror.entries[s])))
        return [str(mirror.entries[s]) for s in np.asarray(picked, dtype=np.int64).tolist()]
