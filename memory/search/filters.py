"""Which memories a read wants: a time window and equality filters, as chromadb `where`
clauses and as an exact check on returned metadata.

Time windows use the `day` metadata (UTC day number) with an indexed `$in`: on a large
store chromadb answers that far faster than a `t` range (measured at 100k memories:
~50 ms against 100-250 ms). The day list over-selects the window's partial first and
last days, so results are always checked exactly with `matches`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from koe.memory.errors import MemoryInputError
from koe.memory.records import ROLES, SECONDS_PER_DAY, stored_time

# Windows up to this many days are looked up by day number, longer ones by a time range.
MAX_DAY_LIST = 400


@dataclass(frozen=True)
class Filter:
    since: float | None = None  # UTC epoch seconds, inclusive
    until: float | None = None  # exclusive
    conversation: str | None = None
    user: str | None = None
    roles: Sequence[str] | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.roles or ()) - set(ROLES)
        if unknown:
            raise MemoryInputError(f"unknown role {sorted(unknown)[0]!r}")

    @property
    def windowed(self) -> bool:
        return self.since is not None or self.until is not None

    def where(self, window: bool = True) -> dict[str, Any] | None:
        """The chromadb filter (a superset of the window; see `matches`)."""
        clauses: list[dict[str, Any]] = []
        if window and self.windowed:
            clauses.append(_window_clause(self.since, self.until))
        if self.conversation is not None:
            clauses.append({"conversation": self.conversation})
        if self.user is not None:
            clauses.append({"user": self.user})
        if self.roles:
            clauses.append({"role": {"$in": list(self.roles)}})
        if self.source is not None:
            clauses.append({"source": self.source})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def matches(self, meta: dict[str, Any]) -> bool:
        t = stored_time(meta)
        return ((self.since is None or t >= self.since)
                and (self.until is None or t < self.until)
                and (self.conversation is None or meta.get("conversation") == self.conversation)
                and (self.user is None or meta.get("user") == self.user)
                and (not self.roles or meta.get("role") in self.roles)
                and (self.source is None or meta.get("source", "voice") == self.source))


def _window_clause(lo: float | None, hi: float | None) -> dict[str, Any]:
    if lo is not None and hi is not None and hi - lo <= MAX_DAY_LIST * SECONDS_PER_DAY:
        first, last = int(lo // SECONDS_PER_DAY), int(max(lo, hi - 1e-6) // SECONDS_PER_DAY)
        return {"day": {"$in": list(range(first, last + 1))}}
    if hi is None:
        return {"t": {"$gte": float(lo)}}  # type: ignore[arg-type]
    if lo is None:
        return {"t": {"$lt": float(hi)}}
    return {"$and": [{"t": {"$gte": float(lo)}}, {"t": {"$lt": float(hi)}}]}
