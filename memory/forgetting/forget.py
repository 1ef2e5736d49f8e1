"""Forgetting: choose memories (ids, conversation, age, an exact phrase, a meaning), delete
them, and on the embedded store compact so the text and vectors leave the files on disk.

Forgetting cannot be undone, so a request removes what it names and nothing else: every
selector given narrows the choice (they AND); a phrase matches whole words exactly
(memory/forgetting/phrase.py); "about" (by meaning) needs a close match and refuses to choose more
than a few. On the embedded store a forget is journaled (memory/forgetting/journal.py): a process
killed halfway has the forget finished by the next open of the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from koe.memory.errors import StoreFullError, store_failure
from koe.memory.forgetting.compact import CompactReport, compact
from koe.memory.forgetting.journal import clear_journal, read_journal, write_journal
from koe.memory.forgetting.request import ABOUT_LIMIT, ABOUT_THRESHOLD, ForgetRequest, TooBroadError
from koe.memory.records import MemoryRecord, Moment
from koe.memory.search.nearest import similarities
from koe.memory.store import MemoryStore

__all__ = ["ABOUT_LIMIT", "ABOUT_THRESHOLD", "ForgetReport", "ForgetRequest", "TooBroadError",
           "finish_interrupted_forget", "forget", "select"]


@dataclass(frozen=True)
class ForgetReport:
    forgotten: int
    compaction: CompactReport | None


def select(store: MemoryStore, request: ForgetRequest | None = None, *,
           ids: Sequence[str] = (), conversation: str | None = None, before: Moment = None,
           matching: str | None = None, about: str | None = None) -> list[MemoryRecord]:
    """The memories `request` names, oldest first. `select(store, conversation="c")` is
    short for `select(store, ForgetRequest(conversation="c"))`."""
    if request is None:
        request = ForgetRequest(tuple(ids), conversation, before, matching, about)
    if request.about is not None and not (request.ids or request.matching is not None):
        chosen = _about_everywhere(store, request)
    else:
        if request.ids:
            pool = store.get(request.record_ids)
        else:
            pool = store.records(until=request.before, conversation=request.conversation)
        chosen = [r for r in pool if request.keeps(r)]
        if request.about is not None:
            chosen = _about_among(store, request, chosen)
    return sorted(chosen, key=lambda r: (r.timestamp, r.id))


def _about_everywhere(store: MemoryStore, request: ForgetRequest) -> list[MemoryRecord]:
    assert request.about is not None
    hits = store.search(request.about, request.limit + 1, until=request.before,
                        conversation=request.conversation)
    close = [h.record for h in hits if h.similarity >= request.threshold]
    _check_limit(request, len(close))
    return close


def _about_among(store: MemoryStore, request: ForgetRequest,
                 records: Sequence[MemoryRecord]) -> list[MemoryRecord]:
    assert request.about is not None
    sims = similarities(store, store.embedder.embed_one(request.about), [r.id for r in records])
    close = [r for r in records if sims.get(r.id, -1.0) >= request.threshold]
    _check_limit(request, len(close))
    return close


def _check_limit(request: ForgetRequest, found: int) -> None:
    if found > request.limit:
        raise TooBroadError(
            f"more than {request.limit} memories are about {request.about!r} "
            f"(similarity {request.threshold:g} or more); nothing was forgotten",
            hint="narrow it with --matching, --conversation or --before, or raise "
                 "--threshold; --dry-run shows what a request would forget")


def forget(store: MemoryStore, records: Sequence[MemoryRecord],
           compact_after: bool | None = None) -> ForgetReport:
    """Delete `records` for good; on the embedded store journaled and, unless told not to
    (memory.compact_on_forget), compacted."""
    if compact_after is None:
        compact_after = store.settings.compact_on_forget
    ids = [r.id for r in records]
    path = store.connection.path
    if path is None:  # a Chroma server: its files are the server's
        return ForgetReport(store.delete(ids), None)
    with store.lock:
        earlier = read_journal(path)  # a forget whose compaction is still owed
        if earlier is not None:
            compact_after = compact_after or earlier.compact
        try:
            write_journal(path, [*(earlier.ids if earlier else ()), *ids], compact_after)
        except OSError as exc:
            raise store_failure(f"memory store {path}: cannot write the forget journal", exc,
                                path) from exc
        deleted = store.delete(ids)
        try:
            report = compact(store) if compact_after and deleted else None
        except StoreFullError as exc:
            raise StoreFullError(
                f"disk full: forgot {deleted} memories, but their text stays in the files of "
                f"{path} until there is room to compact them",
                hint="free some space on that disk; the next time koe opens the store it "
                     "finishes the job") from exc
        clear_journal(path)
    return ForgetReport(deleted, report)


def finish_interrupted_forget(store: MemoryStore) -> bool:
    """On open: finish a forget a killed process left in the journal. True if there was one."""
    path = store.connection.path
    if path is None:
        return False
    for debris in path.glob(".*.partial"):  # a journal or marker write that was killed
        debris.unlink(missing_ok=True)
    pending = read_journal(path)
    if pending is None:
        return False
    with store.lock:
        store.delete(pending.ids)  # they stop being found here, whatever follows
        if pending.compact:
            try:
                compact(store)
            except StoreFullError as exc:  # kept in the journal for the next open
                store.warnings.append(f"{exc}; forgotten memories leave the files when "
                                      "there is room (the next time koe opens the store)")
                return True
        clear_journal(path)
    return True
