"""`koe memory ...`: add, search, list, forget, export, import and inspect long-term memory."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from koe.config.errors import KoeError

if TYPE_CHECKING:
    from koe.config.schema import MemorySettings
    from koe.memory.records import MemoryRecord
    from koe.memory.store import MemoryStore


class UsageError(KoeError):
    exit_code = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("memory", help="long-term memory: search, list, forget, export",
                              description="What koe remembers, and control over it.")
    sub = p.add_subparsers(dest="memory_command", required=True, metavar="ACTION")

    a = sub.add_parser("add", help="remember a text")
    a.add_argument("text", metavar="TEXT")
    a.add_argument("--role", choices=("user", "assistant"), default="user")
    a.add_argument("--at", metavar="TIME", help="when it was said (ISO time or 'yesterday')")
    a.add_argument("--conversation", metavar="ID", help="conversation id (default: a new one)")
    a.add_argument("--json", action="store_true", help="print the stored memory as JSON")
    a.set_defaults(run=run_add)

    s = sub.add_parser("search", help="find memories by meaning (and time)")
    s.add_argument("query", metavar="QUERY")
    s.add_argument("-k", type=int, default=5, metavar="N", help="how many (default 5)")
    _window_args(s)
    s.add_argument("--conversation", metavar="ID")
    s.add_argument("--json", action="store_true", help="one JSON object per line")
    s.set_defaults(run=run_search)

    li = sub.add_parser("list", help="memories in time order")
    li.add_argument("--conversation", metavar="ID")
    _window_args(li)
    li.add_argument("--limit", type=int, metavar="N", help="only the newest N")
    li.add_argument("--json", action="store_true", help="one JSON object per line")
    li.set_defaults(run=run_list)

    c = sub.add_parser("conversations", help="one line per conversation")
    c.add_argument("--json", action="store_true", help="one JSON object per line")
    c.set_defaults(run=run_conversations)

    f = sub.add_parser("forget", help="delete memories for good",
                       description="Forgotten memories are deleted, and on the embedded store "
                                   "the files are compacted so their text leaves the disk.")
    f.add_argument("ids", nargs="*", metavar="ID")
    f.add_argument("--conversation", metavar="ID", help="a whole conversation")
    f.add_argument("--before", metavar="WHEN", help="everything older than this")
    f.add_argument("--matching", metavar="QUERY",
                   help="memories containing QUERY or close to it in meaning")
    f.add_argument("--threshold", type=float, default=None, metavar="SIM",
                   help="similarity needed by --matching (default 0.5)")
    f.add_argument("--yes", action="store_true", help="do not ask")
    f.add_argument("--no-compact", action="store_true",
                   help="skip the compaction (run `koe memory compact` later)")
    f.set_defaults(run=run_forget)

    e = sub.add_parser("export", help="write every memory as JSON lines")
    e.add_argument("--format", choices=("jsonl",), default="jsonl")
    e.add_argument("-o", "--output", metavar="FILE", help="default: standard output")
    e.set_defaults(run=run_export)

    i = sub.add_parser("import", help="read memories from a JSON lines export")
    i.add_argument("file", metavar="FILE", help="a file, or - for standard input")
    i.set_defaults(run=run_import)

    st = sub.add_parser("stats", help="counts, size on disk, oldest and newest")
    st.add_argument("--json", action="store_true")
    st.set_defaults(run=run_stats)

    co = sub.add_parser("compact", help="rewrite the embedded store without deleted data")
    co.set_defaults(run=run_compact)


def _window_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", metavar="WHEN", help="e.g. 2026-03-01, yesterday, 'last week'")
    p.add_argument("--until", metavar="WHEN", help="up to the end of WHEN")


def _settings(args: argparse.Namespace) -> MemorySettings:
    from koe.config.loader import load_settings

    return load_settings(args.config).memory


def _open(args: argparse.Namespace) -> MemoryStore:
    from koe.memory.store import MemoryStore

    return MemoryStore.open(_settings(args))


def _zone(settings: MemorySettings) -> tzinfo:
    from koe.memory.timephrases import local_zone

    try:
        return local_zone(settings.timezone)
    except ValueError as exc:
        raise UsageError(f"memory.timezone: {exc}") from exc


def _when(text: str | None, settings: MemorySettings, end: bool = False) -> datetime | None:
    if text is None:
        return None
    from koe.memory.timephrases import parse_when

    try:
        window = parse_when(text, datetime.now(_zone(settings)))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return window.until if end else window.since


def _line(record: MemoryRecord, zone: tzinfo, score: float | None = None) -> str:
    when = datetime.fromtimestamp(record.timestamp, UTC).astimezone(zone)
    text = " ".join(record.text.split())
    text = text if len(text) <= 100 else text[:99] + "…"
    lead = f"{score:5.2f}  " if score is not None else ""
    return f"{lead}{when:%Y-%m-%d %H:%M}  {record.role:<9}  {record.id}  {text}"


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False))


def run_add(args: argparse.Namespace) -> int:
    from koe.memory.records import new_id

    settings = _settings(args)
    at = _when(args.at, settings)
    with _open(args) as store:
        record = store.add_turn(args.role, args.text, args.conversation or new_id(), at=at,
                                source="text")
    if args.json:
        _print_json(record.to_json())
    else:
        print(record.id)
    return 0


def run_search(args: argparse.Namespace) -> int:
    from koe.memory.recall import recall

    settings = _settings(args)
    since, until = _when(args.since, settings), _when(args.until, settings, end=True)
    with _open(args) as store:
        found = recall(store, args.query, args.k, since=since, until=until,
                       conversation=args.conversation)
    zone = _zone(settings)
    for item in found:
        if args.json:
            _print_json({**item.record.to_json(), "score": round(item.score, 4),
                         "similarity": round(item.similarity, 4), "excerpt": item.text})
        else:
            print(_line(item.record, zone, item.score))
    if not found and not args.json:
        print("nothing found", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    since, until = _when(args.since, settings), _when(args.until, settings, end=True)
    with _open(args) as store:
        records = store.records(since=since, until=until, conversation=args.conversation,
                                limit=args.limit)
    zone = _zone(settings)
    for record in records:
        if args.json:
            _print_json(record.to_json())
        else:
            print(_line(record, zone))
    return 0


def run_conversations(args: argparse.Namespace) -> int:
    from koe.memory.inventory import conversations

    settings = _settings(args)
    with _open(args) as store:
        found = conversations(store)
    zone = _zone(settings)
    for c in found:
        summary = c.summary.text if c.summary else ""
        if args.json:
            _print_json({"id": c.id, "first": c.first, "last": c.last, "turns": c.turns,
                         "summary": summary})
            continue
        first = datetime.fromtimestamp(c.first, UTC).astimezone(zone)
        last = datetime.fromtimestamp(c.last, UTC).astimezone(zone)
        print(f"{c.id}  {first:%Y-%m-%d %H:%M} - {last:%H:%M}  {c.turns:>4} turns  "
              f"{summary[:80]}")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    from koe.memory.forget import DEFAULT_THRESHOLD, forget, select

    if not (args.ids or args.conversation or args.before or args.matching):
        raise UsageError("say what to forget: IDs, --conversation, --before or --matching")
    settings = _settings(args)
    before = _when(args.before, settings)
    with _open(args) as store:
        chosen = select(store, ids=args.ids, conversation=args.conversation, before=before,
                        matching=args.matching,
                        threshold=DEFAULT_THRESHOLD if args.threshold is None else args.threshold)
        if not chosen:
            print("nothing to forget", file=sys.stderr)
            return 1 if args.ids else 0
        zone = _zone(settings)
        if not args.yes:
            for record in chosen:
                print(_line(record, zone), file=sys.stderr)
            if not (sys.stdin.isatty() and _confirm(f"Forget these {len(chosen)} memories?")):
                print(f"not forgotten: {len(chosen)} memories match; add --yes to forget them",
                      file=sys.stderr)
                return 1
        report = forget(store, chosen, compact_after=False if args.no_compact else None)
    print(f"forgot {report.forgotten} memories")
    if report.compaction:
        c = report.compaction
        print(f"compacted {store.location}: {c.bytes_before / 1e6:.1f} MB -> "
              f"{c.bytes_after / 1e6:.1f} MB in {c.seconds:.1f} s")
    elif not store.embedded:
        print("the Chroma server keeps deleted data in its files until `chroma vacuum` runs "
              "on its host")
    return 0


def _confirm(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def run_export(args: argparse.Namespace) -> int:
    from koe.memory.transfer import export_jsonl

    with _open(args) as store:
        if args.output:
            with open(args.output, "w", encoding="utf-8") as out:
                count = export_jsonl(store, out)
        else:
            count = export_jsonl(store, sys.stdout)
    print(f"exported {count} memories", file=sys.stderr)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from koe.memory.transfer import import_jsonl

    def skipped(number: int, reason: str) -> None:
        print(f"koe: {args.file}:{number}: {reason}; skipped", file=sys.stderr)

    with _open(args) as store:
        if args.file == "-":
            report = import_jsonl(store, sys.stdin.buffer, skipped)
        else:
            try:
                source = open(args.file, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise UsageError(f"cannot read {args.file}: {exc.strerror}") from exc
            with source:
                report = import_jsonl(store, source, skipped)
    print(f"imported {report.imported} memories"
          + (f", skipped {len(report.skipped)} lines" if report.skipped else ""),
          file=sys.stderr)
    return 1 if report.skipped else 0


def run_stats(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from koe.memory.inventory import stats

    settings = _settings(args)
    with _open(args) as store:
        s = stats(store)
    if args.json:
        _print_json(asdict(s))
        return 0
    zone = _zone(settings)

    def when(t: float | None) -> str:
        return "-" if t is None else f"{datetime.fromtimestamp(t, UTC).astimezone(zone):%c}"

    roles = ", ".join(f"{n} {role}" for role, n in sorted(s.by_role.items())) or "none"
    size = "on the server" if s.bytes_on_disk is None else f"{s.bytes_on_disk / 1e6:.1f} MB"
    print(f"store          {s.location}")
    print(f"memories       {s.memories} ({roles})")
    print(f"conversations  {s.conversations}")
    print(f"index entries  {s.index_entries}")
    print(f"size on disk   {size}")
    print(f"oldest         {when(s.oldest)}")
    print(f"newest         {when(s.newest)}")
    return 0


def run_compact(args: argparse.Namespace) -> int:
    from koe.memory.compact import compact

    with _open(args) as store:
        c = compact(store)
    print(f"compacted {store.location}: {c.entries} entries, {c.bytes_before / 1e6:.1f} MB -> "
          f"{c.bytes_after / 1e6:.1f} MB in {c.seconds:.1f} s")
    return 0
