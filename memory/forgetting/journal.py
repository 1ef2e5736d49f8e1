"""The forget journal: a forget on the embedded store is written down (the ids, and whether
compaction follows) before anything is deleted, and crossed out only when it has finished.
A process killed in between leaves the journal, and the next open of the store finishes the
forget, so forgotten text leaves every file even across a crash. It holds ids, never text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from koe.memory.durable import remove_durably, write_atomically
from koe.memory.errors import StoreError

JOURNAL_FILE = "koe-forget.json"


@dataclass(frozen=True)
class PendingForget:
    ids: tuple[str, ...]
    compact: bool


def write_journal(store_path: Path, ids: Sequence[str], compact: bool) -> None:
    """Durable when it returns."""
    data = {"ids": list(ids), "compact": compact}
    write_atomically(store_path / JOURNAL_FILE, lambda out: json.dump(data, out))


def read_journal(store_path: Path) -> PendingForget | None:
    path = store_path / JOURNAL_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ids, compact = data["ids"], data["compact"]
        if not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            raise ValueError("ids is not a list of strings")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"{path} is unreadable ({exc}); an interrupted forget cannot be finished",
            hint=f"look at {path}: forget those memories again and remove it, or restore "
                 "the store from an export") from exc
    return PendingForget(tuple(ids), bool(compact))


def clear_journal(store_path: Path) -> None:
    remove_durably(store_path / JOURNAL_FILE)
