"""Compaction of the embedded store: forgotten text and vectors leave the files on disk.

chromadb's delete only marks: the text stays in SQLite's free pages and full-text index,
the write-ahead log keeps recent adds (text and vector) until the vector index is saved,
the HNSW files keep deleted vectors as tombstones, and a deleted collection's index
folder stays on disk. So compaction
  1. copies the live entries (with their stored vectors, no re-embedding) into a fresh
     collection, drops the old one and renames the copy (a marker file makes this
     restartable: an interrupted rebuild is finished or discarded on the next open);
  2. removes index folders that belong to no collection;
  3. closes chromadb, VACUUMs the SQLite file, and opens it again;
  4. merges and rewrites the search index beside it (memory/index/), whose deleted rows
     were zeroed when they were deleted.
chromadb also writes uninitialised memory (freed text among it) into the unused room of its
HNSW files; memory/chroma/calls.py zeroes it after every chromadb call.
A Chroma server's files belong to the server: there, forgetting deletes through the API
and `chroma vacuum` on the server host does the rest.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from koe.memory.chroma.client import SQLITE_FILE
from koe.memory.chroma.hnsw_files import UUID_DIR
from koe.memory.durable import write_atomically
from koe.memory.errors import StoreError, store_failure

if TYPE_CHECKING:
    from koe.memory.store import MemoryStore

REBUILD_MARKER = "koe-rebuild.json"
COPY_PAGE = 1000


@dataclass(frozen=True)
class CompactReport:
    entries: int
    bytes_before: int
    bytes_after: int
    seconds: float


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def rebuild_name(name: str) -> str:
    return f"{name}-rebuild"[:63]


def compact(store: MemoryStore) -> CompactReport:
    if not store.embedded or store.connection.path is None:
        raise StoreError(
            f"compaction works on the embedded store; {store.location} is a Chroma server",
            hint="run `chroma vacuum --path DIR` on the server host")
    path = store.connection.path
    started = time.perf_counter()
    with store.lock:
        try:
            before = folder_size(path)
            entries = _rebuild(store, path)
            remove_orphan_segments(path)
            try:
                store.connection.reopen(lambda: vacuum(path / SQLITE_FILE))
            finally:
                store.reload_collection()
            if store.index is not None:
                store.index.compact()
            after = folder_size(path)
        except (OSError, sqlite3.Error) as exc:
            raise store_failure(f"cannot compact memory store {path}", exc, path) from exc
    return CompactReport(entries, before, after, time.perf_counter() - started)


def _rebuild(store: MemoryStore, path: Path) -> int:
    client, name = store.connection.client, store.settings.collection
    temp = rebuild_name(name)
    _drop_if_exists(client, temp)
    target = client.create_collection(temp, configuration=store.collection.configuration,
                                      embedding_function=store.embedder)
    copied = 0
    offset = 0
    while True:
        page = store.call(lambda offset=offset: store.collection.get(
            include=["embeddings", "documents", "metadatas"], limit=COPY_PAGE, offset=offset))
        if not page["ids"]:
            break
        store.call(lambda page=page: target.add(
            ids=page["ids"], embeddings=page["embeddings"], documents=page["documents"],
            metadatas=page["metadatas"]))
        copied += len(page["ids"])
        offset += len(page["ids"])
    if target.count() != store.collection.count():
        _drop_if_exists(client, temp)
        raise StoreError(f"memory store {path}: compaction copy is incomplete; nothing changed")
    _write_marker(path, name, temp)
    _swap(client, name, temp, path)
    store.reload_collection()
    return copied


def _swap(client: Any, name: str, temp: str, path: Path) -> None:
    _drop_if_exists(client, name)
    client.get_collection(temp).modify(name=name)
    (path / REBUILD_MARKER).unlink(missing_ok=True)


def finish_interrupted_rebuild(client: Any, name: str, path: Path) -> None:
    """On open: complete a rebuild whose copy finished, or discard one that did not; then
    the index folder the loser left behind goes too (it would double the store)."""
    temp = rebuild_name(name)
    existing = {c.name for c in client.list_collections()}
    marker = path / REBUILD_MARKER
    if marker.exists():
        try:
            ready = json.loads(marker.read_text(encoding="utf-8")).get("copy") == temp
        except (OSError, ValueError):
            ready = False
        if ready and temp in existing:
            _swap(client, name, temp, path)
            remove_orphan_segments(path)
            return
        marker.unlink(missing_ok=True)
    if temp in existing:
        client.delete_collection(temp)
        remove_orphan_segments(path)


def _write_marker(path: Path, name: str, temp: str) -> None:
    data = {"collection": name, "copy": temp, "at": time.time()}
    write_atomically(path / REBUILD_MARKER, lambda out: json.dump(data, out))


def _drop_if_exists(client: Any, name: str) -> None:
    if name in {c.name for c in client.list_collections()}:
        client.delete_collection(name)


def remove_orphan_segments(path: Path) -> list[str]:
    """Delete index folders whose segment no collection owns (chromadb leaves them)."""
    with sqlite3.connect(f"file:{path / SQLITE_FILE}?mode=ro", uri=True) as db:
        live = {row[0] for row in db.execute("SELECT id FROM segments")}
    removed = []
    for child in path.iterdir():
        if child.is_dir() and UUID_DIR.match(child.name) and child.name not in live:
            shutil.rmtree(child)
            removed.append(child.name)
    return removed


def vacuum(sqlite_file: Path) -> None:
    """Drop the log rows every segment has applied, rebuild the full-text index without
    deleted rows, and rewrite the file so freed pages (with old text) are gone."""
    db = sqlite3.connect(sqlite_file, timeout=30)
    try:
        db.execute("PRAGMA secure_delete = ON")
        _purge_applied_log(db)
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if "embedding_fulltext_search" in tables:
            db.execute("INSERT INTO embedding_fulltext_search(embedding_fulltext_search) "
                       "VALUES ('optimize')")
        db.commit()
        db.execute("VACUUM")
    except sqlite3.Error as exc:
        raise store_failure(f"cannot compact {sqlite_file}", exc, sqlite_file.parent) from exc
    finally:
        db.close()


def _purge_applied_log(db: sqlite3.Connection) -> None:
    """chromadb's own purge rule (as `chroma vacuum` applies it): per collection, the log
    rows at or below the lowest sequence number its segments have applied; the rows of
    collections that no longer exist go too. A log topic ends with its collection's id."""
    rows = db.execute(
        "SELECT s.collection, MIN(COALESCE(m.seq_id, -1)) FROM segments s "
        "LEFT JOIN max_seq_id m ON m.segment_id = s.id GROUP BY s.collection").fetchall()
    for collection, min_seq in rows:
        if min_seq is not None and min_seq >= 0:
            db.execute("DELETE FROM embeddings_queue WHERE topic LIKE ? AND seq_id <= ?",
                       (f"%/{collection}", min_seq))
    live = [collection for collection, _ in rows]
    marks = ",".join("?" * len(live))
    db.execute(f"DELETE FROM embeddings_queue WHERE substr(topic, -36) NOT IN ({marks})", live)
