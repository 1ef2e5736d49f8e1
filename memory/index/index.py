"""SearchIndex: the file and its in-memory mirror, changed together, read under one lock.

A write is noted as pending (durably) before chromadb is touched and finished here after:
the index changes and the note goes in one transaction, so a process killed between the
two writes leaves a note, and the next open checks those entries against chromadb
(memory/index/sync.py). The mirror is loaded on first use.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from koe.memory.index.mirror import Mirror, Narrowing
from koe.memory.index.tables import CHUNK, FILE, FORMAT, IndexFile, Row

__all__ = ["Narrowing", "Row", "SearchIndex"]


class SearchIndex:
    def __init__(self, folder: Path, dims: int, model: str) -> None:
        self.path = folder / FILE
        self.dims = dims
        self.model = model
        self.file = IndexFile(self.path, dims)
        self.lock = threading.RLock()
        self._mirror: Mirror | None = None

    # -- state ----------------------------------------------------------------------------
    @property
    def mirror(self) -> Mirror:
        with self.lock:
            if self._mirror is None:
                self._mirror = self._load()
            return self._mirror

    def _load(self) -> Mirror:
        mirror = Mirror(self.dims, capacity=self.file.chunks() * CHUNK)
        mirror.matrix = self.file.vectors(mirror.capacity)
        mirror.fill(list(self.file.rows()))
        return mirror

    def is_current(self) -> bool:
        """Complete, and made by this format for this embedding model."""
        return self.file.meta() == self._meta(complete=True)

    def _meta(self, complete: bool) -> dict[str, str]:
        return {"format": FORMAT, "model": self.model, "dims": str(self.dims),
                "complete": "1" if complete else "0"}

    def __len__(self) -> int:
        return self.file.count()

    # -- writing --------------------------------------------------------------------------
    def begin(self, entries: Sequence[str]) -> None:
        """Note that these entries are about to change in chromadb (durable on return)."""
        if entries:
            self.file.mark_pending(entries)

    def apply(self, rows: Sequence[tuple[Row, np.ndarray]], removed: Sequence[str] = (),
              finished: Sequence[str] = ()) -> None:
        """Put `rows`, remove `removed`, cross out `finished` from the pending notes: one
        transaction."""
        with self.lock:
            mirror = self.mirror
            try:
                with self.file.transaction():
                    for entry in removed:
                        slot = mirror.unset(entry)
                        if slot is not None:
                            self.file.remove(slot)
                    for row, vector in rows:
                        slot = mirror.slot_for(row.entry)
                        vector = np.asarray(vector, dtype=np.float32)
                        self.file.put(slot, row, vector)
                        mirror.set(slot, row, vector)
                    self.file.clear_pending(finished)
            except BaseException:
                self._mirror = None  # reloaded from the file, which rolled back
                raise

    def start_rebuild(self) -> None:
        with self.lock, self.file.transaction():
            self.file.reset()
            self.file.db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)",
                                     self._meta(complete=False).items())
        self._mirror = Mirror(self.dims)

    def finish_rebuild(self) -> None:
        self.file.set_meta(self._meta(complete=True))

    # -- reading --------------------------------------------------------------------------
    def nearest(self, vector: np.ndarray, n: int, narrowing: Narrowing, collapse: bool = True
                ) -> list[tuple[int, float]]:
        """(slot, cosine similarity) of the n nearest entries within `narrowing`, best
        first; with `collapse`, one per exact text."""
        with self.lock:
            mirror = self.mirror
            sims = mirror.similarities(vector)
            slots = mirror.nearest(sims, mirror.mask(narrowing), n, collapse)
            return [(slot, float(sims[slot])) for slot in slots]

    def nearest_in(self, vector: np.ndarray, wanted: Sequence[tuple[Narrowing, int]]
                   ) -> tuple[list[int], np.ndarray]:
        """The nearest slots within each narrowing (n for each, one per exact text, best
        first, joined without repeats), and every slot's similarity: one pass over the
        vectors for all of them."""
        with self.lock:
            mirror = self.mirror
            sims = mirror.similarities(vector)
            slots: dict[int, None] = {}
            for narrowing, n in wanted:
                slots.update(dict.fromkeys(mirror.nearest(sims, mirror.mask(narrowing), n)))
            return list(slots), sims

    def matching(self, words: Sequence[str], n: int, narrowing: Narrowing) -> list[int]:
        """Slots of the best lexical matches (any of `words`, BM25) within `narrowing`."""
        with self.lock:
            mirror = self.mirror
            found = self.file.best_matches(words, 4 * n if _narrowed(narrowing) else n,
                                           narrowing.since, narrowing.until)
            if _narrowed(narrowing):
                keep = mirror.mask(narrowing)
                found = [s for s in found if s < mirror.capacity and keep[s]]
            return found[:n]

    def documents(self, entries: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """entry -> (document, metadata), as chromadb holds them."""
        with self.lock:
            found = self.file.documents(entries)
        return {e: (d, json.loads(m)) for e, (d, m) in found.items()}

    def document_counts(self, words: Sequence[str]) -> dict[str, int]:
        with self.lock:
            return self.file.document_counts(words)

    def terms_of(self, slots: Sequence[int]) -> dict[int, str]:
        with self.lock:
            return self.file.terms_of(slots)

    def entry(self, slot: int) -> str | None:
        with self.lock:
            return self.mirror.entries[slot]

    def window(self, narrowing: Narrowing) -> list[int]:
        """Every slot within `narrowing`, oldest first."""
        with self.lock:
            mirror = self.mirror
            slots = np.flatnonzero(mirror.mask(narrowing))
            return [int(s) for s in slots[np.argsort(mirror.t[slots], kind="stable")]]

    # -- upkeep ---------------------------------------------------------------------------
    def compact(self) -> None:
        with self.lock:
            self.file.compact()

    def close(self) -> None:
        with self.lock:
            self.file.close()


def _narrowed(narrowing: Narrowing) -> bool:
    """Filters the full-text query cannot apply itself (it applies the time window)."""
    return (narrowing.conversation is not None or narrowing.user is not None
            or narrowing.roles is not None)
