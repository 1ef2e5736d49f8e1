"""MemoryStore: every conversation turn, durable, findable by meaning and by time.

One chromadb collection. A memory is one entry (id, full text as the document, flat
metadata, the embedding of its first piece); a long text also gets entries
"<id>#1", "<id>#2", ... holding its later pieces, so every part of it can be found.
Embedded (PersistentClient in a private folder, one process at a time) or a Chroma server
(memory.url) with the same behaviour. Writes are durable when they return.

The embedded store keeps a search index beside chromadb (memory/index/): exact vector
search, full-text search and fast time windows. Every write notes its entries as pending
in the index first, writes chromadb, then updates the index and crosses the note out in one
transaction; whatever a crash interrupts is read again from chromadb on the next open.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from koe.config.schema import MemorySettings
from koe.memory.chroma import client as clients
from koe.memory.chroma.calls import ChromaLock, call_chromadb
from koe.memory.chroma.collection import open_collection
from koe.memory.embeddings import OnnxEmbedder, get_embedder
from koe.memory.errors import MemoryInputError, StoreError, server_failure, store_failure
from koe.memory.index.index import Narrowing, SearchIndex
from koe.memory.records import (
    SOURCES,
    MemoryRecord,
    Moment,
    epoch_of,
    from_metadata,
    is_piece,
    new_id,
    piece_ids,
    record_id,
    split_text,
    to_metadata,
)
from koe.memory.search.filters import Filter
from koe.memory.search.nearest import PAGE, Hit, nearest_memories

__all__ = ["MemoryRecord", "MemoryStore"]


class MemoryStore:
    def __init__(self, connection: clients.Connection, settings: MemorySettings,
                 embedder: OnnxEmbedder) -> None:
        self.connection = connection
        self.settings = settings
        self.embedder = embedder
        # Writes and compaction (chromadb itself is thread-safe); see memory/chroma/calls.py.
        self.lock = ChromaLock()
        self.warnings: list[str] = []  # things a user should hear about (the CLI prints them)
        self.collection = open_collection(connection, settings, embedder)
        self.index: SearchIndex | None = None  # set by open() on the embedded store

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
        store: MemoryStore | None = None
        try:
            store = cls(connection, settings, embedder)
            if store.embedded:
                from koe.memory.forgetting.forget import finish_interrupted_forget
                from koe.memory.index.sync import open_index

                store.index = store.call(lambda: open_index(store))
                finish_interrupted_forget(store)
            return store
        except BaseException:
            if store is not None and store.index is not None:
                store.index.close()
            connection.close()
            raise

    def reload_collection(self) -> None:
        """Open the collection again (after compaction replaced or reopened it)."""
        self.collection = open_collection(self.connection, self.settings, self.embedder)

    @property
    def location(self) -> str:
        return self.connection.location

    @property
    def embedded(self) -> bool:
        return self.connection.embedded

    def close(self) -> None:
        with self.lock:
            if self.index is not None:
                self.index.close()
            self.connection.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------
    def add_turn(self, role: str, text: str, conversation: str, *, at: Moment = None,
                 user: str | None = None, source: str = "voice", interrupted: bool = False,
                 spoken: str | None = None, id: str | None = None) -> MemoryRecord:
        """Store one turn; durable when this returns. A caller that may retry a failed add
        chooses the `id` first and passes the same one again: the retry replaces what the
        failed attempt may have stored instead of storing a second copy."""
        timestamp = epoch_of(at)
        record = MemoryRecord(
            id=id or new_id(), text=text, role=role, conversation=conversation,
            timestamp=datetime.now(UTC).timestamp() if timestamp is None else timestamp,
            user=user or self.settings.user, source=source, interrupted=interrupted,
            spoken=spoken)
        self._write([self.check(record)], replacing=id is not None)
        return record

    def add_many(self, records: Iterable[MemoryRecord]) -> int:
        """Store (or replace, by id) many memories, embedded in batches."""
        count = 0
        batch: list[MemoryRecord] = []
        for record in records:
            batch.append(self.check(record))
            if len(batch) >= 256:
                count += self._write(batch)
                batch = []
        if batch:
            count += self._write(batch)
        return count

    def check(self, record: MemoryRecord) -> MemoryRecord:
        """`record` if this store can keep it; MemoryInputError saying why not."""
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
            # A replaced long memory may have had more pieces than its new text.
            stale = sorted(set(self._stale_pieces(records)) - set(ids)) if replacing else []
            with self._indexed([*ids, *stale]) as index:
                if stale:
                    self.call(lambda: self.collection.delete(ids=stale))
                self.call(lambda: self.collection.upsert(
                    ids=ids, embeddings=vectors, documents=documents, metadatas=metadatas))
                if index is not None:
                    from koe.memory.index.sync import index_row

                    rows = [(index_row(i, d, t, m), v) for i, d, t, m, v in
                            zip(ids, documents, texts, metadatas, vectors, strict=True)]
                    self.call(lambda: index.apply(rows, removed=stale,
                                                  finished=[*ids, *stale]))
        return len(records)

    def _stale_pieces(self, records: Sequence[MemoryRecord]) -> list[str]:
        found = self.call(lambda: self.collection.get(ids=[r.id for r in records],
                                                       include=["metadatas"]))
        return [pid for rid, meta in zip(found["ids"], found["metadatas"], strict=True)
                for pid in piece_ids(rid, int((meta or {}).get("pieces", 1)))[1:]]

    @contextlib.contextmanager
    def _indexed(self, entries: Sequence[str]) -> Iterator[SearchIndex | None]:
        """Around a chromadb change of `entries`: noted as pending in the index first; if
        the change fails, the index is set to whatever chromadb holds now."""
        if self.index is None:
            yield None
            return
        index = self.index
        self.call(lambda: index.begin(entries))
        try:
            yield self.index
        except BaseException:
            from koe.memory.index.sync import refresh

            with contextlib.suppress(Exception):  # left pending: the next open retries
                refresh(self, self.index, entries)
            raise

    def delete(self, ids: Iterable[str]) -> int:
        """Delete memories (with their pieces); returns how many existed."""
        wanted = sorted({record_id(i) for i in ids})
        if not wanted:
            return 0
        with self.lock:
            found = self.call(lambda: self.collection.get(ids=wanted, include=["metadatas"]))
            doomed = [pid for rid, meta in zip(found["ids"], found["metadatas"], strict=True)
                      for pid in piece_ids(rid, int((meta or {}).get("pieces", 1)))]
            with self._indexed(doomed) as index:
                for start in range(0, len(doomed), PAGE):
                    part = doomed[start:start + PAGE]
                    self.call(lambda part=part: self.collection.delete(ids=part))
                if index is not None:
                    self.call(lambda: index.apply([], removed=doomed, finished=doomed))
        return len(found["ids"])

    # -- reading --------------------------------------------------------------------
    def get(self, ids: Sequence[str]) -> list[MemoryRecord]:
        if not ids:
            return []
        found = self.call(lambda: self.collection.get(
            ids=list(dict.fromkeys(ids)), include=["documents", "metadatas"]))
        by_id = {i: from_metadata(i, d, m or {}) for i, d, m in
                 zip(found["ids"], found["documents"], found["metadatas"], strict=True)}
        return [by_id[i] for i in ids if i in by_id]

    def records(self, *, since: Moment = None, until: Moment = None,
                conversation: str | None = None, user: str | None = None,
                roles: Sequence[str] | None = None, limit: int | None = None,
                source: str | None = None) -> list[MemoryRecord]:
        """Memories in time order (oldest first); `limit` keeps the newest."""
        if limit is not None and limit < 1:
            raise MemoryInputError(f"limit must be 1 or more, not {limit}")
        wanted = Filter(epoch_of(since), epoch_of(until), conversation, user, roles, source)
        if self.index is not None and wanted.windowed:
            found = self.call(lambda: self._records_in_window(wanted))
        else:
            found = [from_metadata(i, d, m or {}) for page in self.pages(wanted.where())
                     for i, d, m in zip(page["ids"], page["documents"], page["metadatas"],
                                        strict=True)
                     if not is_piece(i) and wanted.matches(m or {})]
        found.sort(key=lambda r: (r.timestamp, r.id))
        return found[-limit:] if limit else found

    def _records_in_window(self, wanted: Filter) -> list[MemoryRecord]:
        """A time window read from the index's time column: milliseconds at any size, where
        chromadb's metadata filter takes a tenth of a second at 100,000 memories."""
        assert self.index is not None
        index = self.index
        with index.lock:
            slots = index.window(Narrowing(wanted.since, wanted.until, wanted.conversation,
                                           wanted.user, tuple(wanted.roles or ()) or None))
            entries = [e for e in map(index.entry, slots) if e is not None and not is_piece(e)]
            read = index.documents(entries)
        return [from_metadata(e, *read[e]) for e in entries
                if e in read and wanted.matches(read[e][1])]

    def conversation_turns(self, conversation: str) -> list[MemoryRecord]:
        return self.records(conversation=conversation)

    def count(self) -> int:
        """Stored entries, long memories counting once per piece."""
        return int(self.call(self.collection.count))

    def search(self, query: str | np.ndarray, k: int = 5, *, since: Moment = None,
               until: Moment = None, conversation: str | None = None, user: str | None = None,
               roles: Sequence[str] | None = None) -> list[Hit]:
        """The k memories most similar to `query`, best first, within the filters."""
        wanted = Filter(epoch_of(since), epoch_of(until), conversation, user, roles)
        return nearest_memories(self, query, k, wanted)

    def pages(self, where: dict[str, Any] | None = None,
              include: Sequence[str] = ("documents", "metadatas")) -> Iterator[dict[str, Any]]:
        """Every entry matching `where`, PAGE at a time (pieces included)."""
        offset = 0
        while True:
            page = self.call(lambda offset=offset: self.collection.get(
                where=where, include=list(include), limit=PAGE, offset=offset))
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run one chromadb operation; its failures become a StoreError naming the store."""
        return call_chromadb(fn, self._failure)

    def _failure(self, exc: BaseException) -> StoreError:
        if self.embedded:
            return store_failure(f"memory store {self.location}", exc, self.connection.path)
        return server_failure(self.location, exc, self.settings.timeout)
