"""A question asked again while it still has no answer is a retry, not a new memory.

koe stores the user's turn before it asks the model, so nothing said is lost when the model
is down. A user whose `koe chat --once "..."` failed runs it again, maybe three times; they
said it once and expect koe to remember it once. So when the same question was stored a
short while ago and nothing answered it, that memory is reused (moved to the new attempt)
instead of a copy being added. Once answered, asking again is a new turn, as it should be.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from koe.memory.records import MemoryRecord


def same_question(a: str, b: str) -> bool:
    """Equal up to case and spacing: how a retyped or recalled command line differs."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def unanswered(records: Iterable[MemoryRecord], question: str) -> MemoryRecord | None:
    """The latest user turn among `records` that asks `question` and that no assistant turn
    followed in its conversation, or None."""
    by_conversation: dict[str, list[MemoryRecord]] = {}
    for record in records:
        by_conversation.setdefault(record.conversation, []).append(record)
    found: list[MemoryRecord] = []
    for turns in by_conversation.values():
        turns.sort(key=lambda r: (r.timestamp, r.id))
        for turn, after in zip(turns, [*turns[1:], None], strict=True):
            if (turn.role == "user" and same_question(turn.text, question)
                    and (after is None or after.role != "assistant")):
                found.append(turn)
    return max(found, key=lambda r: r.timestamp, default=None)
