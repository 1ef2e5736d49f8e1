"""Finding memories by meaning: nearest neighbours within filters and time windows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from koe.memory.filters import Filter
from koe.memory.records import (
    MemoryRecord,
    from_metadata,
    is_piece,
    piece_ids,
    record_id,
    split_text,
)

if TYPE_CHECKING:
    from koe.memory.store import MemoryStore

# Windows longer than this are searched among the store's NEIGHBOURS nearest entries first.
SHORT_WINDOW_SECONDS = 2 * 86400
NEIGHBOURS = 200
PAGE = 2000
# (entry id, document or None, metadata, cosine similarity)
Row = tuple[str, str | None, dict[str, Any], float]


@dataclass(frozen=True)
class Hit:
    record: MemoryRecord
    similarity: float  # cosine, -1..1
    excerpt: str  # the piece that matched (the text itself for short memories)


def nearest_memories(store: MemoryStore, query: str | np.ndarray, k: int, wanted: Filter
                     ) -> list[Hit]:
    """The k memories most similar to `query`, best first, within `wanted`."""
    if k <= 0:
        return []
    vector = store.embedder.embed_one(query) if isinstance(query, str) else query
    if wanted.windowed:
        return _hits(store, _nearest_in_window(store, vector, k, wanted), k)
    return _hits(store, _nearest(store, vector, k, wanted), k)


def _nearest(store: MemoryStore, vector: np.ndarray, k: int, wanted: Filter,
             keep: Callable[[Row], bool] | None = None, n: int | None = None
             ) -> list[Row]:
    """HNSW nearest neighbours (n of them). Filters are applied to an over-fetched
    unfiltered result first (chromadb's filtered search is far slower than its plain one
    on large stores), then, if too few survive, by chromadb itstore."""
    where = wanted.where(window=False)
    n = n or (max(4 * k, 32) if where or keep else k + 4)
    rows: list[Row] = []
    # Over-fetched rows come without their documents; _hits fetches the few it keeps.
    include = ["metadatas", "distances"] + (["documents"] if n <= k + 4 else [])
    for clause in (None, where) if where else (None,):
        found = store.call(lambda clause=clause: store.collection.query(
            query_embeddings=[vector], n_results=n, where=clause, include=include))
        everything = len(found["ids"][0]) < n
        documents = (found.get("documents") or [None])[0] or [None] * len(found["ids"][0])
        rows = [(i, d, m or {}, 1.0 - float(dist)) for i, d, m, dist in zip(
            found["ids"][0], documents, found["metadatas"][0], found["distances"][0],
            strict=True)]
        rows = [r for r in rows if wanted.matches(r[2]) and (keep is None or keep(r))]
        if everything or len({record_id(r[0]) for r in rows}) >= k:
            break
    return rows

def _nearest_in_window(store: MemoryStore, vector: np.ndarray, k: int, wanted: Filter) -> list[Row]:
    """Ranking inside a time window. A long window ("last month") usually holds enough
    of the whole store's nearest neighbours; otherwise (and for short windows) the
    window's ids come from an indexed day-number lookup and are ranked exactly by
    their vectors, fetched by id."""
    since = wanted.since if wanted.since is not None else float("-inf")
    until = wanted.until if wanted.until is not None else float("inf")
    if until - since > SHORT_WINDOW_SECONDS:
        outside = Filter(conversation=wanted.conversation, user=wanted.user,
                         roles=wanted.roles)
        rows = _nearest(store, vector, k, outside, keep=lambda r: wanted.matches(r[2]),
                             n=max(4 * k, NEIGHBOURS))
        if len({record_id(r[0]) for r in rows}) >= k:
            return rows
    ids = [i for page in store.pages(wanted.where(), include=()) for i in page["ids"]]
    rows = []
    for start in range(0, len(ids), PAGE):
        part = ids[start:start + PAGE]
        found = store.call(lambda part=part: store.collection.get(
            ids=part, include=["embeddings", "metadatas"]))
        sims = np.asarray(found["embeddings"], dtype=np.float32) @ vector
        rows += [(i, None, m or {}, float(sim)) for i, m, sim in zip(
            found["ids"], found["metadatas"], sims, strict=True)
            if wanted.matches(m or {})]
    rows.sort(key=lambda r: -r[3])
    return rows

def similarities(store: MemoryStore, vector: np.ndarray, record_ids: Sequence[str]
                 ) -> dict[str, float]:
    """Exact cosine similarity of each memory to `vector`: that of its closest piece."""
    best: dict[str, float] = {}
    for start in range(0, len(record_ids), PAGE):
        part = list(record_ids[start:start + PAGE])
        found = store.call(lambda part=part: store.collection.get(
            ids=part, include=["embeddings", "metadatas"]))
        extra = [pid for rid, meta in zip(found["ids"], found["metadatas"], strict=True)
                 for pid in piece_ids(rid, int((meta or {}).get("pieces", 1)))[1:]]
        ids, vectors = list(found["ids"]), list(found["embeddings"])
        for first in range(0, len(extra), PAGE):
            chunk = extra[first:first + PAGE]
            pieces = store.call(lambda chunk=chunk: store.collection.get(
                ids=chunk, include=["embeddings"]))
            ids += pieces["ids"]
            vectors += list(pieces["embeddings"])
        if not ids:
            continue
        sims = np.asarray(vectors, dtype=np.float32) @ vector
        for entry_id, sim in zip(ids, sims, strict=True):
            rid = record_id(entry_id)
            best[rid] = max(best.get(rid, -1.0), float(sim))
    return best


def _hits(store: MemoryStore, scored: Iterable[Row], k: int) -> list[Hit]:
    """The best entry per memory, k memories, with texts fetched where missing."""
    best: dict[str, Row] = {}
    for row in scored:
        best.setdefault(record_id(row[0]), row)
        if len(best) >= k:
            break
    missing = [row[0] for row in best.values() if row[1] is None]
    if missing:
        found = store.call(lambda: store.collection.get(ids=missing, include=["documents"]))
        texts = dict(zip(found["ids"], found["documents"], strict=True))
        best = {rid: (row[0], texts.get(row[0]) or "", row[2], row[3])
                for rid, row in best.items()}
    parents = {r.id: r for r in store.get([rid for rid, row in best.items()
                                          if is_piece(row[0])])}
    hits = []
    for rid, (entry_id, document, meta, sim) in best.items():
        if is_piece(entry_id):
            record = parents.get(rid)
            if record is not None:
                hits.append(Hit(record, sim, document or ""))
            continue
        record = from_metadata(entry_id, document, meta)
        hits.append(Hit(record, sim, split_text(record.text, store.settings.chunk_chars)[0]))
    return hits
