"""Keeping the search index equal to chromadb's content.

chromadb is the record; the index is derived from it and rebuilt from it whenever it cannot
be trusted: missing (a store made before the index existed), of another format or embedding
model, left half-built, or holding another number of entries than chromadb. Entries a
killed process was writing (the pending notes) are read again from chromadb on open.
The index lives beside the embedded store only: a Chroma server may be written by other
machines, so there chromadb's own index answers (memory/search/nearest.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from koe.memory.embeddings import DIMENSIONS
from koe.memory.index.index import SearchIndex
from koe.memory.index.tables import Row
from koe.memory.index.terms import kind_of, terms, text_key
from koe.memory.records import is_piece, split_text, stored_time

if TYPE_CHECKING:
    from koe.memory.store import MemoryStore

PAGE = 1000


def index_row(entry: str, document: str, piece: str, meta: dict[str, Any]) -> Row:
    """The index's row for one chromadb entry: its document, metadata, and `piece` (the text
    its vector embeds)."""
    role = str(meta.get("role"))
    kept = {k: v for k, v in meta.items() if v is not None}  # as chromadb keeps it
    return Row(entry=entry, t=stored_time(meta), kind=int(kind_of(role, piece)), role=role,
               conversation=str(meta.get("conversation")), user=str(meta.get("user", "default")),
               key=text_key(piece), terms=" ".join(terms(piece)), document=document,
               meta=json.dumps(kept, ensure_ascii=False))


def open_index(store: MemoryStore) -> SearchIndex | None:
    """The embedded store's index, made equal to chromadb's content; None for a server."""
    path = store.connection.path
    if path is None:
        return None
    index = SearchIndex(path, DIMENSIONS, store.settings.embedding_model)
    try:
        existed = len(index) > 0 or bool(index.file.meta())
        if not index.is_current():
            rebuild(store, index, "it was incomplete or of another version" if existed
                    else "it was missing")
            return index
        pending = index.file.pending()
        if pending:
            refresh(store, index, pending)
        if len(index) != store.count():
            rebuild(store, index, "it did not match the store")
    except BaseException:
        index.close()
        raise
    return index


def rebuild(store: MemoryStore, index: SearchIndex, why: str) -> None:
    started = time.perf_counter()
    index.start_rebuild()
    entries = 0
    for page in store.pages(include=("documents", "metadatas", "embeddings")):
        index.apply(_rows(store, page))
        entries += len(page["ids"])
    index.finish_rebuild()
    if entries:  # a new, empty store has nothing to say
        store.warnings.append(
            f"rebuilt the search index beside {store.location} from the store ({why}): "
            f"{entries:,} entries in {time.perf_counter() - started:.0f} s")


def refresh(store: MemoryStore, index: SearchIndex, entries: Sequence[str]) -> None:
    """Make these entries in the index what chromadb holds now (present or gone)."""
    for start in range(0, len(entries), PAGE):
        part = list(entries[start:start + PAGE])
        found = store.call(lambda part=part: store.collection.get(
            ids=part, include=["documents", "metadatas", "embeddings"]))
        gone = sorted(set(part) - set(found["ids"]))
        index.apply(_rows(store, found), removed=gone, finished=part)


def _rows(store: MemoryStore, page: dict[str, Any]) -> list[tuple[Row, Any]]:
    rows = []
    for entry, document, meta, vector in zip(page["ids"], page["documents"],
                                             page["metadatas"], page["embeddings"],
                                             strict=True):
        text = document or ""
        piece = text if is_piece(entry) else split_text(text, store.settings.chunk_chars)[0]
        rows.append((index_row(entry, text, piece, meta or {}), vector))
    return rows
