"""The search index in memory: every vector in one matrix, searched exactly, and the columns
filters need (time, role, conversation, user) as arrays, so a time window or a conversation
narrows the search with one comparison over the store instead of a metadata scan.

Exact search is a matrix-vector product: at 100,000 memories of 384 float32 numbers it reads
146 MiB and takes a few milliseconds, and unlike a graph index it always reaches the nearest
memory (chromadb's HNSW at M 16 / ef 100 did not past ~10,000 memories whose texts repeat).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from koe.memory.index.tables import CHUNK, Row, Stored
from koe.memory.records import ROLES

ROLE_CODES = {role: i for i, role in enumerate(ROLES)}
NO_CODE = -1  # a value no stored entry has: filtering on it matches nothing


@dataclass(frozen=True)
class Narrowing:
    """Which entries a search may return (None: any)."""

    since: float | None = None
    until: float | None = None
    conversation: str | None = None
    user: str | None = None
    roles: tuple[str, ...] | None = None


@dataclass
class Mirror:
    dims: int
    capacity: int = 0
    matrix: np.ndarray = field(init=False)
    alive: np.ndarray = field(init=False)
    t: np.ndarray = field(init=False)
    kind: np.ndarray = field(init=False)
    role: np.ndarray = field(init=False)
    conversation: np.ndarray = field(init=False)
    user: np.ndarray = field(init=False)
    key: np.ndarray = field(init=False)
    entries: list[str | None] = field(default_factory=list)
    slots: dict[str, int] = field(default_factory=dict)
    codes: dict[str, dict[str, int]] = field(default_factory=lambda: {"conversation": {},
                                                                       "user": {}})
    # A heap of free slots, the lowest reused first; it may hold slots taken since (skipped).
    free: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.matrix = np.zeros((self.capacity, self.dims), dtype=np.float32)
        self.alive = np.zeros(self.capacity, dtype=bool)
        self.t = np.zeros(self.capacity, dtype=np.float64)
        self.kind = np.zeros(self.capacity, dtype=np.int8)
        self.role = np.zeros(self.capacity, dtype=np.int8)
        self.conversation = np.zeros(self.capacity, dtype=np.int32)
        self.user = np.zeros(self.capacity, dtype=np.int32)
        self.key = np.zeros(self.capacity, dtype=np.int64)
        self.entries = [None] * self.capacity
        self.free = list(range(self.capacity))

    def __len__(self) -> int:
        return len(self.slots)

    def fill(self, stored: Sequence[Stored]) -> None:
        """Load many rows at once (opening a large store: one pass, no per-row updates)."""
        if not stored:
            return
        slots = np.fromiter((s.slot for s in stored), dtype=np.int64, count=len(stored))
        if int(slots.max()) >= self.capacity:
            self._grow(int(slots.max()) + 1 - self.capacity)
        rows = [s.row for s in stored]
        self.alive[slots] = True
        self.t[slots] = [r.t for r in rows]
        self.kind[slots] = [r.kind for r in rows]
        self.role[slots] = [ROLE_CODES.get(r.role, NO_CODE) for r in rows]
        self.conversation[slots] = [self._code("conversation", r.conversation) for r in rows]
        self.user[slots] = [self._code("user", r.user) for r in rows]
        self.key[slots] = [r.key for r in rows]
        for slot, row in zip(slots.tolist(), rows, strict=True):
            self.entries[slot] = row.entry
            self.slots[row.entry] = slot
        self.free = [int(s) for s in np.flatnonzero(~self.alive)]  # sorted: a valid heap

    # -- changes ------------------------------------------------------------------------
    def slot_for(self, entry: str) -> int:
        """The entry's slot, or the lowest free one (growing by whole chunks)."""
        if entry in self.slots:
            return self.slots[entry]
        while self.free and self.alive[self.free[0]]:
            heapq.heappop(self.free)
        if not self.free:  # a quarter more: copies stay rare, at most a quarter stays empty
            self._grow(max(CHUNK, self.capacity // 4))
        return self.free[0]

    def set(self, slot: int, row: Row, vector: np.ndarray) -> None:
        if slot >= self.capacity:
            self._grow(slot + 1 - self.capacity)
        self.matrix[slot] = vector
        self.alive[slot] = True
        self.t[slot] = row.t
        self.kind[slot] = row.kind
        self.role[slot] = ROLE_CODES.get(row.role, NO_CODE)
        self.conversation[slot] = self._code("conversation", row.conversation)
        self.user[slot] = self._code("user", row.user)
        self.key[slot] = row.key
        old = self.entries[slot]
        if old is not None and old != row.entry:
            self.slots.pop(old, None)
        self.entries[slot] = row.entry
        self.slots[row.entry] = slot

    def unset(self, entry: str) -> int | None:
        slot = self.slots.pop(entry, None)
        if slot is None:
            return None
        self.alive[slot] = False
        self.matrix[slot] = 0.0
        self.entries[slot] = None
        heapq.heappush(self.free, slot)
        return slot

    def _grow(self, extra: int) -> None:
        chunks = -(-extra // CHUNK)
        old = self.capacity
        self.capacity += chunks * CHUNK
        grow = self.capacity - old
        self.matrix = np.concatenate([self.matrix, np.zeros((grow, self.dims), np.float32)])
        for name in ("alive", "t", "kind", "role", "conversation", "user", "key"):
            column = getattr(self, name)
            setattr(self, name, np.concatenate([column, np.zeros(grow, column.dtype)]))
        self.entries += [None] * grow
        for slot in range(old, self.capacity):
            heapq.heappush(self.free, slot)

    def _code(self, column: str, value: str) -> int:
        codes = self.codes[column]
        if value not in codes:
            codes[value] = len(codes)
        return codes[value]

    # -- reading ------------------------------------------------------------------------
    def mask(self, narrowing: Narrowing) -> np.ndarray:
        keep = self.alive.copy()
        if narrowing.since is not None:
            keep &= self.t >= narrowing.since
        if narrowing.until is not None:
            keep &= self.t < narrowing.until
        for column in ("conversation", "user"):
            value = getattr(narrowing, column)
            if value is not None:
                keep &= getattr(self, column) == self.codes[column].get(value, NO_CODE)
        if narrowing.roles is not None:
            keep &= np.isin(self.role, [ROLE_CODES.get(r, NO_CODE) for r in narrowing.roles])
        return keep

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        # einsum runs on this thread: on two busy cores BLAS's thread pool made the same
        # product 1.5-2x slower and far less even (measured at 100,000 vectors).
        return np.einsum("ij,j->i", self.matrix, np.asarray(vector, dtype=np.float32))

    def nearest(self, sims: np.ndarray, keep: np.ndarray, n: int, collapse: bool = True
                ) -> list[int]:
        """The n best slots within `keep`, best first; with `collapse`, one per exact text
        (a text said again and again, "okay", takes one place: its most durable and newest
        saying)."""
        if n <= 0 or not keep.any():
            return []
        scores = np.where(keep, sims, -np.inf)
        wide = min(int(keep.sum()), 4 * n)
        top = np.argpartition(-scores, wide - 1)[:wide] if wide < len(scores) else \
            np.arange(len(scores))
        top = top[np.isfinite(scores[top])]
        if not collapse:
            return [int(s) for s in top[np.argsort(-scores[top], kind="stable")][:n]]
        groups: dict[int, list[int]] = {}  # by text, in order of their best similarity
        for slot in top[np.argsort(-scores[top], kind="stable")]:
            groups.setdefault(int(self.key[slot]), []).append(int(slot))
        return [min(group, key=lambda s: (self.kind[s], -self.t[s]))
                for group in list(groups.values())[:n]]
