"""Finding memories by meaning: nearest neighbours within filters and time windows.

The embedded store answers from its search index (exact, every memory compared); a Chroma
server from its own HNSW graph, over-fetched and filtered here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from koe.memory.index.index import Narrowing, SearchIndex
from koe.memory.records import (
    MemoryRecord,
    from_metadata,
    is_piece,
    piece_ids,
    record_id,
    split_text,
)
from koe.memory.search.filters import Filter

if TYPE_CHECKING:
    from koe.memory.store import MemoryStore

# Windows longer than this are searched among the store's NEIGHBOURS nearest entries first.
SHORT_WINDOW_SECONDS = 2 * 86400
NEIGHBOURS = 200
PAGE = 2000
# (entry id, document or None, metadata or None, cosine similarity): what is None is read
# from chromadb for the few rows kept.
Row = tuple[str, str | None, dict[str, Any] | None, float]


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
    if store.index is not None:
        return _hits(store, _nearest_indexed(store.index, vector, k, wanted), k)
    if wanted.windowed:
        return _hits(store, _nearest_in_window(store, vector, k, wanted), k)
    return _hits(store, _nearest(store, vector, k, wanted), k)


def _nearest_indexed(index: SearchIndex, vector: np.ndarray, k: int, wanted: Filter
                     ) -> list[Row]:
    """Exact nearest entries; enough of them that k memories (not pieces) are among them."""
    narrowing = Narrowing(wanted.since, wanted.until, wanted.conversation, wanted.user,
                          tuple(wanted.roles) if wanted.roles else None)
    n = k + 4
    while True:
        found = index.nearest(vector, n, narrowing, collapse=False)
        rows: list[Row] = [(str(index.entry(slot)), None, None, sim) for slot, sim in found]
        if len(found) < n or len({record_id(r[0]) for r in rows}) >= k:
            return rows
        n *= 4


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


def read_entries(store: MemoryStore, entries: Sequence[str]
                 ) -> dict[str, tuple[str, dict[str, Any]]]:
    """entry id -> (document, metadata): from the embedded store's index (a chromadb read
    costs ~10 ms even for a few ids), else from chromadb."""
    if not entries:
        return {}
    if store.index is not None:
        return store.index.documents(entries)
    found = store.call(lambda: store.collection.get(ids=list(dict.fromkeys(entries)),
                                                    include=["documents", "metadatas"]))
    return {i: (d or "", m or {}) for i, d, m in
            zip(found["ids"], found["documents"], found["metadatas"], strict=True)}


def read_records(store: MemoryStore, ids: Sequence[str]) -> list[MemoryRecord]:
    """The memories with these ids that exist, in the order given."""
    read = read_entries(store, ids)
    return [from_metadata(i, *read[i]) for i in dict.fromkeys(ids) if i in read]


def _hits(store: MemoryStore, scored: Iterable[Row], k: int) -> list[Hit]:
    """The best entry per memory, k memories, with texts fetched where missing."""
    best: dict[str, Row] = {}
    for row in scored:
        best.setdefault(record_id(row[0]), row)
        if len(best) >= k:
            break
    missing = [row[0] for row in best.values() if row[1] is None or row[2] is None]
    if missing:
        read = read_entries(store, missing)
        best = {rid: (row[0], *read.get(row[0], (row[1] or "", row[2] or {})), row[3])
                for rid, row in best.items() if row[0] in read or row[2] is not None}
    parents = {r.id: r for r in read_records(store, [rid for rid, row in best.items()
                                                     if is_piece(row[0])])}
    hits = []
    for rid, (entry_id, document, meta, sim) in best.items():
        if is_piece(entry_id):
            record = parents.get(rid)
            if record is not None:
                hits.append(Hit(record, sim, document or ""))
            continue
        record = from_metadata(entry_id, document, meta or {})
        hits.append(Hit(record, sim, split_text(record.text, store.settings.chunk_chars)[0]))
    return hits
