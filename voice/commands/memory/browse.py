"""`koe memory add | search | list | conversations | stats | compact`."""

from __future__ import annotations

import argparse
import sys

from koe.voice.commands.memory.common import (
    UsageError,
    line,
    memory_settings,
    moment,
    open_store,
    print_json,
    when,
    zone_of,
)


def run_add(args: argparse.Namespace) -> int:
    from koe.memory.errors import StoreError
    from koe.memory.records import new_id

    settings = memory_settings(args)
    at = moment(args.at, settings)
    text = stdin_text() if args.text == "-" else args.text
    memory_id = args.id or new_id()  # chosen before the write: a retry can reuse it
    with open_store(args) as store:
        try:
            record = store.add_turn(args.role, text, args.conversation or new_id(), at=at,
                                    source="text", id=memory_id)
        except StoreError as exc:
            raise type(exc)(exc.message, hint=f"{exc.hint + '; ' if exc.hint else ''}then "
                            f"retry with --id {memory_id}: it is never stored twice") from exc
    if args.json:
        print_json(record.to_json())
    else:
        print(record.id)
    return 0


def stdin_text() -> str:
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise UsageError(f"standard input is not UTF-8 text (byte {exc.start})",
                         hint="convert it first, e.g. with iconv -t UTF-8") from None


def run_search(args: argparse.Namespace) -> int:
    from koe.memory.recall import recall

    settings = memory_settings(args)
    since, until = when(args.since, settings), when(args.until, settings, end=True)
    with open_store(args) as store:
        found = recall(store, args.query, args.k, since=since, until=until,
                       conversation=args.conversation)
    zone = zone_of(settings)
    for item in found:
        if args.json:
            print_json({**item.record.to_json(), "score": round(item.score, 4),
                         "similarity": round(item.similarity, 4), "excerpt": item.text})
        else:
            print(line(item.record, zone, item.score))
    if not found and not args.json:
        print("nothing found", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    settings = memory_settings(args)
    since, until = when(args.since, settings), when(args.until, settings, end=True)
    with open_store(args) as store:
        records = store.records(since=since, until=until, conversation=args.conversation,
                                limit=args.limit, source=args.source)
    zone = zone_of(settings)
    for record in records:
        if args.json:
            print_json(record.to_json())
        else:
            print(line(record, zone))
    return 0


def run_conversations(args: argparse.Namespace) -> int:
    from koe.memory.inventory import conversations
    from koe.memory.when.timestamps import local

    settings = memory_settings(args)
    with open_store(args) as store:
        found = conversations(store)
    zone = zone_of(settings)
    for c in found:
        summary = c.summary.text if c.summary else ""
        if args.json:
            print_json({"id": c.id, "first": c.first, "last": c.last, "turns": c.turns,
                         "summary": summary})
            continue
        print(f"{c.id}  {local(c.first, zone):%Y-%m-%d %H:%M} - {local(c.last, zone):%H:%M}  "
              f"{c.turns:>4} turns  {summary[:80]}")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from koe.memory.inventory import stats
    from koe.memory.when.timestamps import local

    settings = memory_settings(args)
    with open_store(args) as store:
        s = stats(store)
    if args.json:
        print_json(asdict(s))
        return 0
    zone = zone_of(settings)

    def shown(t: float | None) -> str:
        return "-" if t is None else f"{local(t, zone):%c}"

    roles = ", ".join(f"{n} {role}" for role, n in sorted(s.by_role.items())) or "none"
    size = "on the server" if s.bytes_on_disk is None else f"{s.bytes_on_disk / 1e6:.1f} MB"
    print(f"store          {s.location}")
    print(f"memories       {s.memories} ({roles})")
    print(f"conversations  {s.conversations}")
    print(f"index entries  {s.index_entries}")
    print(f"size on disk   {size}")
    print(f"oldest         {shown(s.oldest)}")
    print(f"newest         {shown(s.newest)}")
    return 0


def run_compact(args: argparse.Namespace) -> int:
    from koe.memory.forgetting.compact import compact

    with open_store(args) as store:
        c = compact(store)
    print(f"compacted {store.location}: {c.entries} entries, {c.bytes_before / 1e6:.1f} MB -> "
          f"{c.bytes_after / 1e6:.1f} MB in {c.seconds:.1f} s")
    return 0
