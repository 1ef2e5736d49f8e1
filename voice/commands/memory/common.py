"""What the `koe memory` actions share: the store, times in the user's zone, one line per memory."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from koe.config.errors import KoeError

if TYPE_CHECKING:
    from koe.config.schema import MemorySettings
    from koe.memory.records import MemoryRecord
    from koe.memory.store import MemoryStore


class UsageError(KoeError):
    exit_code = 2


def count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def window_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", metavar="WHEN", help="e.g. 2026-03-01, yesterday, 'last week'")
    p.add_argument("--until", metavar="WHEN", help="up to the end of WHEN")


def memory_settings(args: argparse.Namespace) -> MemorySettings:
    from koe.config.loader import load_settings

    return load_settings(args.config).memory


def open_store(args: argparse.Namespace) -> MemoryStore:
    from koe.memory.store import MemoryStore

    store = MemoryStore.open(memory_settings(args))
    for warning in store.warnings:
        print(f"koe: warning: {warning}", file=sys.stderr)
    return store


def zone_of(settings: MemorySettings) -> tzinfo:
    from koe.memory.when.phrases import local_zone

    try:
        return local_zone(settings.timezone)
    except ValueError as exc:
        raise UsageError(f"memory.timezone: {exc}") from exc


def moment(text: str | None, settings: MemorySettings, end: bool = False) -> datetime | None:
    if text is None:
        return None
    from koe.memory.when.phrases import parse_when

    try:
        window = parse_when(text, datetime.now(zone_of(settings)))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return window.until if end else window.since


def when(text: str | None, settings: MemorySettings, end: bool = False) -> float | None:
    """A window edge: times past the years koe keeps mean "from the start" / "to the end"."""
    from koe.memory.when.timestamps import clamped

    at = moment(text, settings, end)
    return None if at is None else clamped(at)


def line(record: MemoryRecord, zone: tzinfo, score: float | None = None) -> str:
    from koe.memory.when.timestamps import local

    text = " ".join(record.text.split())
    text = text if len(text) <= 100 else text[:99] + "…"
    if record.recording is not None and record.role != "summary":
        from koe.memory.recordings import clock

        text = f"[{record.recording} {clock(record.offset or 0.0)}] {text}"
    lead = f"{score:5.2f}  " if score is not None else ""
    return f"{lead}{local(record.timestamp, zone):%Y-%m-%d %H:%M}  {record.role:<9}  " \
           f"{record.id}  {text}"


def print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False))
