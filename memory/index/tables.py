"""The search index's file: one SQLite database beside chromadb's, written in transactions.

Tables: `entries` (one row per chromadb entry: its slot, time, kind, filters, the key of its
words, the words themselves, and its document and metadata as chromadb holds them, so recall
reads what it returns from here), `lexicon` (an FTS5 index over those words, with
`lexicon_vocab` for how many entries hold a word), `vectors` (the embeddings, CHUNK slots
to a row, so loading 100,000 of them reads a few hundred rows) and `pending` (entries being
written to chromadb right now: whatever a crash leaves there is checked against chromadb on
the next open). Everything here can be rebuilt from chromadb's content.

Forgetting: deleted rows and vectors are overwritten with zeros (secure_delete; vectors by
hand) and `compact()` merges the full-text index and rewrites the file, so forgotten words
leave it the way they leave chromadb's files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE = "koe-index.sqlite3"
FORMAT = "4"  # a file of another format (or another embedding model) is rebuilt
CHUNK = 256
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries(
    slot INTEGER PRIMARY KEY, entry TEXT NOT NULL UNIQUE, t REAL NOT NULL,
    kind INTEGER NOT NULL, role TEXT NOT NULL, conversation TEXT NOT NULL,
    user TEXT NOT NULL, key INTEGER NOT NULL, terms TEXT NOT NULL, document TEXT NOT NULL,
    meta TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entries_t ON entries(t);
CREATE VIRTUAL TABLE IF NOT EXISTS lexicon USING fts5(
    terms, content='entries', content_rowid='slot',
    tokenize='unicode61 remove_diacritics 0');
CREATE VIRTUAL TABLE IF NOT EXISTS lexicon_vocab USING fts5vocab(lexicon, 'row');
CREATE TABLE IF NOT EXISTS vectors(chunk INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pending(entry TEXT PRIMARY KEY);
"""


@dataclass(frozen=True)
class Row:
    """One index entry (a memory, or a later piece of a long one)."""

    entry: str
    t: float
    kind: int
    role: str
    conversation: str
    user: str
    key: int
    terms: str  # space-separated, as terms.terms() gives them
    document: str  # chromadb's document: a memory's whole text, or a later piece
    meta: str  # chromadb's metadata, as JSON


@dataclass(frozen=True)
class Stored:
    slot: int
    row: Row


class IndexFile:
    def __init__(self, path: Path, dims: int) -> None:
        self.path = path
        self.dims = dims
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        # A commit survives kill -9 (the log is in the OS's hands); `pending` commits are
        # synced as well, so a power cut cannot lose the note of an unfinished write.
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA secure_delete = ON")
        self.db.executescript(_SCHEMA)

    # -- bookkeeping ----------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM meta"))

    def set_meta(self, values: dict[str, str]) -> None:
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                                values.items())

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def mark_pending(self, entries: Sequence[str]) -> None:
        """Durable when it returns (a synced commit)."""
        self.db.execute("PRAGMA synchronous = FULL")
        try:
            with self.transaction():
                self.db.executemany("INSERT OR IGNORE INTO pending(entry) VALUES (?)",
                                    ((e,) for e in entries))
        finally:
            self.db.execute("PRAGMA synchronous = NORMAL")

    def pending(self) -> list[str]:
        return [e for (e,) in self.db.execute("SELECT entry FROM pending")]

    def clear_pending(self, entries: Iterable[str]) -> None:
        """Inside the transaction that finished them."""
        self.db.executemany("DELETE FROM pending WHERE entry = ?", ((e,) for e in entries))

    # -- rows -------------------------------------------------------------------------
    def rows(self) -> Iterator[Stored]:
        for slot, *values in self.db.execute(
                "SELECT slot, entry, t, kind, role, conversation, user, key, '', '', '' "
                "FROM entries"):  # what the mirror needs
            yield Stored(slot, Row(*values))

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM entries").fetchone()[0])

    def terms_of(self, slots: Sequence[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for start in range(0, len(slots), 500):
            part = list(slots[start:start + 500])
            marks = ",".join("?" * len(part))
            found.update(self.db.execute(
                f"SELECT slot, terms FROM entries WHERE slot IN ({marks})", part))
        return found

    def documents(self, entries: Sequence[str]) -> dict[str, tuple[str, str]]:
        """entry -> (document, metadata JSON)."""
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(entries), 500):
            part = list(entries[start:start + 500])
            marks = ",".join("?" * len(part))
            found.update((e, (d, m)) for e, d, m in self.db.execute(
                f"SELECT entry, document, meta FROM entries WHERE entry IN ({marks})", part))
        return found

    def put(self, slot: int, row: Row, vector: np.ndarray) -> None:
        """Write (or overwrite) a slot; inside a transaction."""
        old = self.db.execute("SELECT terms FROM entries WHERE slot = ?", (slot,)).fetchone()
        if old is not None:
            self.db.execute("INSERT INTO lexicon(lexicon, rowid, terms) VALUES ('delete', ?, ?)",
                            (slot, old[0]))
        self.db.execute(
            "INSERT OR REPLACE INTO entries(slot, entry, t, kind, role, conversation, user, key, "
            "terms, document, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (slot, row.entry, row.t, row.kind, row.role, row.conversation, row.user, row.key,
             row.terms, row.document, row.meta))
        self.db.execute("INSERT INTO lexicon(rowid, terms) VALUES (?, ?)", (slot, row.terms))
        self._write_vector(slot, np.asarray(vector, dtype=np.float32))

    def remove(self, slot: int) -> None:
        """Delete a slot's row, words and vector (zeroed); inside a transaction."""
        old = self.db.execute("SELECT terms FROM entries WHERE slot = ?", (slot,)).fetchone()
        if old is None:
            return
        self.db.execute("INSERT INTO lexicon(lexicon, rowid, terms) VALUES ('delete', ?, ?)",
                        (slot, old[0]))
        self.db.execute("DELETE FROM entries WHERE slot = ?", (slot,))
        self._write_vector(slot, np.zeros(self.dims, dtype=np.float32))

    def reset(self) -> None:
        """Every table dropped and made again empty (a rebuild, perhaps of an older format);
        inside a transaction."""
        for table in ("lexicon_vocab", "lexicon", "entries", "vectors", "pending", "meta"):
            self.db.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self.db.execute(statement)

    # -- vectors ----------------------------------------------------------------------
    def _write_vector(self, slot: int, vector: np.ndarray) -> None:
        chunk, offset = divmod(slot, CHUNK)
        size = CHUNK * self.dims * 4
        self.db.execute("INSERT OR IGNORE INTO vectors(chunk, data) VALUES (?, zeroblob(?))",
                        (chunk, size))
        rowid = self.db.execute("SELECT rowid FROM vectors WHERE chunk = ?",
                                (chunk,)).fetchone()[0]
        with self.db.blobopen("vectors", "data", rowid) as blob:
            blob.seek(offset * self.dims * 4)
            blob.write(vector.tobytes())

    def vectors(self, capacity: int) -> np.ndarray:
        """Every slot's vector, (capacity, dims); slots never written are zeros."""
        matrix = np.zeros((capacity, self.dims), dtype=np.float32)
        for chunk, data in self.db.execute("SELECT chunk, data FROM vectors"):
            block = np.frombuffer(data, dtype=np.float32).reshape(CHUNK, self.dims)
            start = chunk * CHUNK
            if start < capacity:
                matrix[start:start + CHUNK] = block[:capacity - start]
        return matrix

    def chunks(self) -> int:
        found = self.db.execute("SELECT max(chunk) FROM vectors").fetchone()[0]
        return 0 if found is None else int(found) + 1

    # -- lexical search -----------------------------------------------------------------
    def document_counts(self, words: Sequence[str]) -> dict[str, int]:
        if not words:
            return {}
        marks = ",".join("?" * len(words))
        return dict(self.db.execute(
            f"SELECT term, doc FROM lexicon_vocab WHERE term IN ({marks})", list(words)))

    def best_matches(self, words: Sequence[str], n: int, since: float | None = None,
                     until: float | None = None) -> list[int]:
        """Slots of the n entries that match any of `words` best (BM25), within a window."""
        if not words or n <= 0:
            return []
        query = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        if since is None and until is None:
            sql, args = ("SELECT rowid FROM lexicon WHERE lexicon MATCH ? ORDER BY rank "
                         "LIMIT ?"), [query, n]
        else:
            sql = ("SELECT l.rowid FROM lexicon l JOIN entries e ON e.slot = l.rowid "
                   "WHERE lexicon MATCH ? AND e.t >= ? AND e.t < ? ORDER BY l.rank LIMIT ?")
            args = [query, -1e300 if since is None else since,
                    1e300 if until is None else until, n]
        return [slot for (slot,) in self.db.execute(sql, args)]

    # -- upkeep -------------------------------------------------------------------------
    def compact(self) -> None:
        """Merge the full-text index (old segments keep deleted words), rewrite the file and
        empty the write-ahead log, so nothing deleted is left in any file."""
        self.db.execute("INSERT INTO lexicon(lexicon) VALUES ('optimize')")
        self.db.execute("VACUUM")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.db.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
