"""MemoryStore: every conversation turn, durable, findable by meaning and by time.

One chromadb collection. A memory is one entry (id, full text as the document, flat
metadata, the embedding of its first piece); a long text also gets entries
"<id>#1", "<id>#2", ... holding its later pieces, so every part of it can be found.
Embedded (PersistentClient in a private folder, one process at a time) or a Chroma server
(memory.url) with the same behaviour. Writes are durable when they return.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from koe.config.errors import KoeError
from koe.config.schema import MemorySettings
from koe.memory import client as clients
from koe.memory.embeddings import OnnxEmbedder, get_embedder
from koe.memory.errors import MemoryInputError, StoreError
from koe.memory.filters import Filter
from koe.memory.records import (
    SOURCES,
    MemoryRecord,
    from_metadata,
    is_piece,
    new_id,
    piece_ids,
    record_id,
    split_text,
    to_metadata,
)

__all__ = ["Hit", "MemoryRecord", "MemoryStore"]

PAGE = 2000
HNSW = {"space": "cosine", "ef_construction": 100, "ef_search": 100, "max_neighbors": 16}
# Windows longer than this are searched among the store's NEIGHBOURS nearest entries first.
SHORT_WINDOW_SECONDS = 2 * 86400
NEIGHBOURS = 200
# (entry id, document or None, metadata, cosine similarity)
Row = tuple[str, str | None, dict[str, Any], float]


@dataclass(frozen=True)
class Hit:
    record: MemoryRecord
    similarity: float  # cosine, -1..1
    excerpt: str  # the piece that matched (the text itself for short memories)


Moment = datetime | float | None


def _epoch(moment: Moment) -> float | None:
    if moment is None or isinstance(moment, int | float):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class MemoryStore:
    def __init__(self, connection: clients.Connection, settings: MemorySettings,
                 embedder: OnnxEmbedder) -> None:
        self.connection = connection
        self.settings = settings
        self.embedder = embedder
        self.lock = threading.RLock()  # writes and compaction; chromadb itself is thread-safe
        self.collection = self._collection()

    # -- opening and closing --------------------------------------------------------
    @classmethod
    def open(cls, settings: MemorySettings | None = None) -> MemoryStore:
        settings = settings or MemorySettings()
        embedder = get_embedder(settings.embedding_model, settings.threads)
        if settings.url:
            connection = clients.open_http(settings.url, settings.timeout)
        else:
            path = Path(settings.path).expanduser() if settings.path else (
                clients.default_store_path())
            connection = clients.open_embedded(path)
        try:
            return cls(connection, settings, embedder)
        except BaseException:
            connection.close()
            raise

    def _collection(self) -> Any:
        name = self.settings.collection
        path = self.connection.path

        def get_or_create() -> Any:
            if path is not None:
                from koe.memory.compact import finish_interrupted_rebuild

                finish_interrupted_rebuild(self.connection.client, name, path)
                marker = clients.read_marker(path)
                existing = {c.name for c in self.connection.client.list_collections()}
                if marker and marker.get("collection") == name and name not in existing:
                    raise StoreError(
                        f"memory store {path} has lost its collection {name!r}",
                        hint=f"move {path} aside and restore from an export; koe will not "
                             "start an empty store over it")
            collection = self.connection.client.get_or_create_collection(
                name, configuration={"hnsw": HNSW}, embedding_function=self.embedder)
            if path is not None and not (path / clients.MARKER_FILE).exists():
                clients.write_marker(path, name)
            return collection

        if path is None:
            try:
                return get_or_create()
            except Exception as exc:
                raise StoreError(f"Chroma server {self.location}: {exc}") from exc
        return clients._chroma_call(path, get_or_create)

    @property
    def location(self) -> str:
        return self.connection.location

    @property
    def embedded(self) -> bool:
        return self.connection.embedded

    def close(self) -> None:
        with self.lock:
            self.connection.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------
    def add_turn(self, role: str, text: str, conversation: str, *, at: Moment = None,
                 user: str | None = None, source: str = "voice", interrupted: bool = False,
                 spoken: str | None = None) -> MemoryRecord:
        """Store one turn; durable when this returns."""
        timestamp = _epoch(at)
        record = MemoryRecord(
            id=new_id(), text=text, role=role, conversation=conversation,
            timestamp=datetime.now(UTC).timestamp() if timestamp is None else timestamp,
            user=user or self.settings.user, source=source, interrupted=interrupted,
            spoken=spoken)
        self._write([self._checked(record)], replacing=False)
        return record

    def add_many(self, records: Iterable[MemoryRecord]) -> int:
        """Store (or replace, by id) many memories, embedded in batches."""
        count = 0
        batch: list[MemoryRecord] = []
        for record in records:
            batch.append(self._checked(record))
            if len(batch) >= 256:
                count += self._write(batch)
                batch = []
        if batch:
            count += self._write(batch)
        return count

    def _checked(self, record: MemoryRecord) -> MemoryRecord:
        try:
            record.validate()
        except ValueError as exc:
            raise MemoryInputError(f"cannot store memory: {exc}") from exc
        if record.source not in SOURCES:
            raise MemoryInputError(f"source must be one of {', '.join(SOURCES)}")
        if len(record.text) > self.settings.max_text_chars:
            raise MemoryInputError(
                f"text of {len(record.text):,} characters is longer than memory.max_text_chars "
                f"({self.settings.max_text_chars:,})")
        return record

    def _write(self, records: Sequence[MemoryRecord], replacing: bool = True) -> int:
        ids: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, Any]] = []
        texts: list[str] = []
        for record in records:
            pieces = split_text(record.text, self.settings.chunk_chars)
            for i, (entry_id, piece) in enumerate(zip(piece_ids(record.id, len(pieces)), pieces,
                                                      strict=True)):
                ids.append(entry_id)
                documents.append(record.text if i == 0 else piece)
                metadatas.append(to_metadata(record, i, len(pieces)))
                texts.append(piece)
        vectors = self.embedder.embed(texts)
        with self.lock:
            if replacing:
                self._drop_stale_pieces(records)
            self._call(lambda: self.collection.upsert(
                ids=ids, embeddings=vectors, documents=documents, metadatas=metadatas))
        return len(records)

    def _drop_stale_pieces(self, records: Sequence[MemoryRecord]) -> None:
        """A replaced long memory may have had more pieces than its new text."""
        found = self._call(lambda: self.collection.get(ids=[r.id for r in records],
                                                       include=["metadatas"]))
        stale = [pid for rid, meta in zip(found["ids"], found["metadatas"], strict=True)
                 for pid in piece_ids(rid, int((meta or {}).get("pieces", 1)))[1:]]
        if stale:
            self._call(lambda: self.collection.delete(ids=stale))

    def delete(self, ids: Iterable[str]) -> int:
        """Delete memories (with their pieces); returns how many existed."""
        wanted = sorted({record_id(i) for i in ids})
        if not wanted:
            return 0
        with self.lock:
            found = self._call(lambda: self.collection.get(ids=wanted, include=["metadatas"]))
            doomed = [pid for rid, meta in zip(found["ids"], found["metadatas"], strict=True)
                      for pid in piece_ids(rid, int((meta or {}).get("pieces", 1)))]
            for start in range(0, len(doomed), PAGE):
                part = doomed[start:start + PAGE]
                self._call(lambda part=part: self.collection.delete(ids=part))
        return len(found["ids"])

    # -- reading --------------------------------------------------------------------
    def get(self, ids: Sequence[str]) -> list[MemoryRecord]:
        if not ids:
            return []
        found = self._call(lambda: self.collection.get(
            ids=list(dict.fromkeys(ids)), include=["documents", "metadatas"]))
        by_id = {i: from_metadata(i, d, m or {}) for i, d, m in
                 zip(found["ids"], found["documents"], found["metadatas"], strict=True)}
        return [by_id[i] for i in ids if i in by_id]

    def records(self, *, since: Moment = None, until: Moment = None,
                conversation: str | None = None, user: str | None = None,
                roles: Sequence[str] | None = None, limit: int | None = None
                ) -> list[MemoryRecord]:
        """Memories in time order (oldest first); `limit` keeps the newest."""
        wanted = Filter(_epoch(since), _epoch(until), conversation, user, roles)
        found = [from_metadata(i, d, m or {}) for page in self.pages(wanted.where())
                 for i, d, m in zip(page["ids"], page["documents"], page["metadatas"],
                                    strict=True)
                 if not is_piece(i) and wanted.matches(m or {})]
        found.sort(key=lambda r: (r.timestamp, r.id))
        return found[-limit:] if limit else found

    def conversation_turns(self, conversation: str) -> list[MemoryRecord]:
        return self.records(conversation=conversation)

    def count(self) -> int:
        """Stored entries, long memories counting once per piece."""
        return int(self._call(self.collection.count))

    def search(self, query: str | np.ndarray, k: int = 5, *, since: Moment = None,
               until: Moment = None, conversation: str | None = None, user: str | None = None,
               roles: Sequence[str] | None = None) -> list[Hit]:
        """The k memories most similar to `query`, best first, within the filters."""
        if k <= 0:
            return []
        wanted = Filter(_epoch(since), _epoch(until), conversation, user, roles)
        vector = self.embedder.embed_one(query) if isinstance(query, str) else query
        if wanted.windowed:
            return self._hits(self._nearest_in_window(vector, k, wanted), k)
        return self._hits(self._nearest(vector, k, wanted), k)

    def _nearest(self, vector: np.ndarray, k: int, wanted: Filter,
                 keep: Callable[[Row], bool] | None = None, n: int | None = None
                 ) -> list[Row]:
        """HNSW nearest neighbours (n of them). Filters are applied to an over-fetched
        unfiltered result first (chromadb's filtered search is far slower than its plain one
        on large stores), then, if too few survive, by chromadb itself."""
        where = wanted.where(window=False)
        n = n or (max(4 * k, 32) if where or keep else k + 4)
        rows: list[Row] = []
        # Over-fetched rows come without their documents; _hits fetches the few it keeps.
        include = ["metadatas", "distances"] + (["documents"] if n <= k + 4 else [])
        for clause in (None, where) if where else (None,):
            found = self._call(lambda clause=clause: self.collection.query(
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

    def _nearest_in_window(self, vector: np.ndarray, k: int, wanted: Filter) -> list[Row]:
        """Ranking inside a time window. A long window ("last month") usually holds enough
        of the whole store's nearest neighbours; otherwise (and for short windows) the
        window's ids come from an indexed day-number lookup and are ranked exactly by
        their vectors, fetched by id."""
        since = wanted.since if wanted.since is not None else float("-inf")
        until = wanted.until if wanted.until is not None else float("inf")
        if until - since > SHORT_WINDOW_SECONDS:
            outside = Filter(conversation=wanted.conversation, user=wanted.user,
                             roles=wanted.roles)
            rows = self._nearest(vector, k, outside, keep=lambda r: wanted.matches(r[2]),
                                 n=max(4 * k, NEIGHBOURS))
            if len({record_id(r[0]) for r in rows}) >= k:
                return rows
        ids = [i for page in self.pages(wanted.where(), include=()) for i in page["ids"]]
        rows = []
        for start in range(0, len(ids), PAGE):
            part = ids[start:start + PAGE]
            found = self._call(lambda part=part: self.collection.get(
                ids=part, include=["embeddings", "metadatas"]))
            sims = np.asarray(found["embeddings"], dtype=np.float32) @ vector
            rows += [(i, None, m or {}, float(sim)) for i, m, sim in zip(
                found["ids"], found["metadatas"], sims, strict=True)
                if wanted.matches(m or {})]
        rows.sort(key=lambda r: -r[3])
        return rows

    def _hits(self, scored: Iterable[Row], k: int) -> list[Hit]:
        """The best entry per memory, k memories, with texts fetched where missing."""
        best: dict[str, Row] = {}
        for row in scored:
            best.setdefault(record_id(row[0]), row)
            if len(best) >= k:
                break
        missing = [row[0] for row in best.values() if row[1] is None]
        if missing:
            found = self._call(lambda: self.collection.get(ids=missing, include=["documents"]))
            texts = dict(zip(found["ids"], found["documents"], strict=True))
            best = {rid: (row[0], texts.get(row[0]) or "", row[2], row[3])
                    for rid, row in best.items()}
        parents = {r.id: r for r in self.get([rid for rid, row in best.items()
                                              if is_piece(row[0])])}
        hits = []
        for rid, (entry_id, document, meta, sim) in best.items():
            if is_piece(entry_id):
                record = parents.get(rid)
                if record is not None:
                    hits.append(Hit(record, sim, document or ""))
                continue
            record = from_metadata(entry_id, document, meta)
            hits.append(Hit(record, sim, split_text(record.text, self.settings.chunk_chars)[0]))
        return hits

    def pages(self, where: dict[str, Any] | None = None,
              include: Sequence[str] = ("documents", "metadatas")) -> Iterator[dict[str, Any]]:
        """Every entry matching `where`, PAGE at a time (pieces included)."""
        offset = 0
        while True:
            page = self._call(lambda offset=offset: self.collection.get(
                where=where, include=list(include), limit=PAGE, offset=offset))
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except (KeyboardInterrupt, SystemExit, KoeError):
            raise
        except BaseException as exc:
            where = "Chroma server" if not self.embedded else "memory store"
            raise StoreError(f"{where} {self.location}: {clients._short(exc)}") from exc
