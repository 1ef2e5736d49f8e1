"""Candidates for recall: the memories worth ranking for a question.

On the embedded store they come from its search index (memory/index/): the nearest by
exact vector search (one per exact text, so "okay" said a thousand times takes one place)
and the best full-text matches (BM25) on the question's rarer words, from the whole store
and, when the question names a time ("last week"), from inside that window too. On a
Chroma server they come from the server's own nearest-neighbour search, and word coverage
is counted without word weights (the server keeps no word statistics).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from koe.memory.index.index import Narrowing, SearchIndex
from koe.memory.index.terms import Kind, kind_of, terms
from koe.memory.records import is_piece, split_text, stored_time
from koe.memory.search.filters import Filter
from koe.memory.search.ranking import Candidate, coverage, idf

if TYPE_CHECKING:
    from koe.memory.store import MemoryStore

DENSE = 100  # nearest entries taken from the whole store (or the hard window)
LEXICAL = 50  # full-text matches taken from it
WINDOW_DENSE = 50  # the same, from inside a window the question names
WINDOW_LEXICAL = 25
# Words held by more than this share of the store (and at least COMMON_FLOOR entries) find
# nothing particular: they still count in coverage, but do not drive the full-text search,
# where ranking thousands of matches would cost tens of milliseconds.
COMMON_SHARE = 0.02
COMMON_FLOOR = 200


@dataclass(frozen=True)
class Scope:
    """Where to look: a hard window and filters, plus a soft window to prefer."""

    since: float | None = None
    until: float | None = None
    conversation: str | None = None
    user: str | None = None
    prefer_since: float | None = None
    prefer_until: float | None = None

    @property
    def prefers(self) -> bool:
        return self.prefer_since is not None or self.prefer_until is not None

    def inside(self, t: float) -> bool:
        return ((self.prefer_since is None or t >= self.prefer_since)
                and (self.prefer_until is None or t < self.prefer_until))


def gather(store: MemoryStore, question: str, vector: np.ndarray, scope: Scope
           ) -> list[Candidate]:
    if store.index is not None:
        return _from_index(store.index, question, vector, scope)
    return _from_server(store, question, vector, scope)


def _from_index(index: SearchIndex, question: str, vector: np.ndarray, scope: Scope
                ) -> list[Candidate]:
    words = list(dict.fromkeys(terms(question)))
    counts = index.document_counts(words)
    total = max(1, len(index.mirror))
    weights = {w: idf(counts.get(w, 0), total) for w in words}
    common = max(COMMON_FLOOR, COMMON_SHARE * total)
    rare = [w for w in words if 0 < counts.get(w, 0) <= common]
    wanted = [(Narrowing(scope.since, scope.until, scope.conversation, scope.user), DENSE,
               LEXICAL)]
    if scope.prefers:
        wanted.append((Narrowing(scope.prefer_since, scope.prefer_until, scope.conversation,
                                 scope.user), WINDOW_DENSE, WINDOW_LEXICAL))
    with index.lock:
        slots, sims = index.nearest_in(vector, [(where, n) for where, n, _ in wanted])
        for where, _, n in wanted:
            slots += index.matching(rare, n, where)
        slots = list(dict.fromkeys(slots))
        mirror = index.mirror
        held = index.terms_of(slots)
        return [Candidate(entry=str(mirror.entries[s]), similarity=float(sims[s]),
                          coverage=coverage(words, set(held.get(s, "").split()), weights),
                          kind=Kind(int(mirror.kind[s])), timestamp=float(mirror.t[s]),
                          vector=mirror.matrix[s].copy(),
                          inside=scope.prefers and scope.inside(float(mirror.t[s])))
                for s in slots if mirror.entries[s] is not None]


def _from_server(store: MemoryStore, question: str, vector: np.ndarray, scope: Scope
                 ) -> list[Candidate]:
    words = list(dict.fromkeys(terms(question)))
    wanted = Filter(scope.since, scope.until, scope.conversation, scope.user)
    found = _query(store, vector, DENSE, wanted)
    if scope.prefers:
        window = Filter(scope.prefer_since, scope.prefer_until, scope.conversation, scope.user)
        found += _query(store, vector, WINDOW_DENSE, window)
    out: dict[str, Candidate] = {}
    for entry, document, meta, embedding in found:
        if entry in out:
            continue
        text = document or ""
        piece = text if is_piece(entry) else split_text(text, store.settings.chunk_chars)[0]
        row_vector = np.asarray(embedding, dtype=np.float32)
        t = stored_time(meta)
        out[entry] = Candidate(
            entry=entry, similarity=float(row_vector @ vector),
            coverage=coverage(words, set(terms(piece)), {}),
            kind=kind_of(str(meta.get("role")), piece), timestamp=t, vector=row_vector,
            inside=scope.prefers and scope.inside(t))
    return list(out.values())


def _query(store: MemoryStore, vector: np.ndarray, n: int, wanted: Filter
           ) -> list[tuple[str, str | None, dict[str, Any], Sequence[float]]]:
    found = store.call(lambda: store.collection.query(
        query_embeddings=[vector], n_results=n, where=wanted.where(),
        include=["documents", "metadatas", "embeddings"]))
    rows = zip(found["ids"][0], found["documents"][0], found["metadatas"][0],
               found["embeddings"][0], strict=True)
    return [(i, d, m or {}, e) for i, d, m, e in rows if wanted.matches(m or {})]
