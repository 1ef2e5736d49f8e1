"""`koe memory ...`: add, search, list, forget, export, import and inspect long-term memory."""

from __future__ import annotations

import argparse
import errno
import json
import sys
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from koe.config.errors import KoeError
from koe.memory.records import SOURCES

if TYPE_CHECKING:
    from koe.config.schema import MemorySettings
    from koe.memory.records import MemoryRecord
    from koe.memory.store import MemoryStore

FORGET_HELP = """\
Forgotten memories are deleted, and on the embedded store the files are compacted so their
text leaves the disk. Selectors narrow each other: every one given must hold, so
`--matching car --before 2026-11-28` forgets only memories older than that which contain
the words "car". Every memory forgotten is listed (with --yes, after the fact); --dry-run
only lists them."""


class UsageError(KoeError):
    exit_code = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("memory", help="long-term memory: search, list, forget, export",
                              description="What koe remembers, and control over it.")
    sub = p.add_subparsers(dest="memory_command", required=True, metavar="ACTION")

    a = sub.add_parser("add", help="remember a text")
    a.add_argument("text", metavar="TEXT", help="the text, or - to read it from standard input")
    a.add_argument("--role", choices=("user", "assistant"), default="user")
    a.add_argument("--at", metavar="TIME", help="when it was said (ISO time or 'yesterday')")
    a.add_argument("--conversation", metavar="ID", help="conversation id (default: a new one)")
    a.add_argument("--id", metavar="ID",
                   help="the memory's id; adding again with the same id replaces it, so a "
                        "failed add can be retried without storing it twice")
    a.add_argument("--json", action="store_true", help="print the stored memory as JSON")
    a.set_defaults(run=run_add)

    s = sub.add_parser("search", help="find memories by meaning (and time)")
    s.add_argument("query", metavar="QUERY")
    s.add_argument("-k", type=_count, default=5, metavar="N", help="how many (default 5)")
    _window_args(s)
    s.add_argument("--conversation", metavar="ID")
    s.add_argument("--json", action="store_true", help="one JSON object per line")
    s.set_defaults(run=run_search)

    li = sub.add_parser("list", help="memories in time order")
    li.add_argument("--conversation", metavar="ID")
    li.add_argument("--source", choices=SOURCES,
                    help="only what came this way (recording: remembered recordings)")
    _window_args(li)
    li.add_argument("--limit", type=_count, metavar="N", help="only the newest N (1 or more)")
    li.add_argument("--json", action="store_true", help="one JSON object per line")
    li.set_defaults(run=run_list)

    c = sub.add_parser("conversations", help="one line per conversation")
    c.add_argument("--json", action="store_true", help="one JSON object per line")
    c.set_defaults(run=run_conversations)

    _register_forget(sub)

    e = sub.add_parser("export", help="write every memory as JSON lines")
    e.add_argument("--format", choices=("jsonl",), default="jsonl")
    e.add_argument("-o", "--output", metavar="FILE",
                   help="default: standard output; the file is replaced only once the whole "
                        "export is written, and is readable by you alone")
    e.set_defaults(run=run_export)

    i = sub.add_parser("import", help="read memories from a JSON lines export")
    i.add_argument("file", metavar="FILE", help="a file, or - for standard input")
    i.set_defaults(run=run_import)

    st = sub.add_parser("stats", help="counts, size on disk, oldest and newest")
    st.add_argument("--json", action="store_true")
    st.set_defaults(run=run_stats)

    co = sub.add_parser("compact", help="rewrite the embedded store without deleted data")
    co.set_defaults(run=run_compact)


def _register_forget(sub: argparse._SubParsersAction) -> None:
    from koe.memory.selectors import ABOUT_LIMIT, ABOUT_THRESHOLD

    f = sub.add_parser("forget", help="delete memories for good", description=FORGET_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    f.add_argument("ids", nargs="*", metavar="ID", help="these memories")
    f.add_argument("--conversation", metavar="ID", help="in this conversation")
    f.add_argument("--before", metavar="WHEN", help="older than this")
    f.add_argument("--matching", metavar="PHRASE",
                   help="containing PHRASE as whole words, ignoring case and punctuation "
                        "('November 3' does not match 'November 30')")
    f.add_argument("--recording", metavar="NAME",
                   help="remembered from the recording NAME (its file name, as `koe memory "
                        "list --source recording` shows it)")
    f.add_argument("--about", metavar="TEXT",
                   help=f"close in meaning to TEXT (similarity {ABOUT_THRESHOLD:g} or more); "
                        f"refused if more than {ABOUT_LIMIT} memories are")
    f.add_argument("--threshold", type=float, default=None, metavar="SIM",
                   help=f"similarity --about needs, -1 to 1 (default {ABOUT_THRESHOLD:g})")
    f.add_argument("--dry-run", action="store_true", help="list what would be forgotten")
    f.add_argument("--yes", action="store_true", help="do not ask")
    f.add_argument("--no-compact", action="store_true",
                   help="skip the compaction (run `koe memory compact` later)")
    f.set_defaults(run=run_forget)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _window_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", metavar="WHEN", help="e.g. 2026-03-01, yesterday, 'last week'")
    p.add_argument("--until", metavar="WHEN", help="up to the end of WHEN")


def _settings(args: argparse.Namespace) -> MemorySettings:
    from koe.config.loader import load_settings

    return load_settings(args.config).memory


def _open(args: argparse.Namespace) -> MemoryStore:
    from koe.memory.store import MemoryStore

    store = MemoryStore.open(_settings(args))
    for warning in store.warnings:
        print(f"koe: warning: {warning}", file=sys.stderr)
    return store


def _zone(settings: MemorySettings) -> tzinfo:
    from koe.memory.timephrases import local_zone

    try:
        return local_zone(settings.timezone)
    except ValueError as exc:
        raise UsageError(f"memory.timezone: {exc}") from exc


def _moment(text: str | None, settings: MemorySettings, end: bool = False) -> datetime | None:
    if text is None:
        return None
    from koe.memory.timephrases import parse_when

    try:
        window = parse_when(text, datetime.now(_zone(settings)))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return window.until if end else window.since


def _when(text: str | None, settings: MemorySettings, end: bool = False) -> float | None:
    """A window edge: times past the years koe keeps mean "from the start" / "to the end"."""
    from koe.memory.timestamps import clamped

    moment = _moment(text, settings, end)
    return None if moment is None else clamped(moment)


def _line(record: MemoryRecord, zone: tzinfo, score: float | None = None) -> str:
    from koe.memory.timestamps import local

    text = " ".join(record.text.split())
    text = text if len(text) <= 100 else text[:99] + "…"
    if record.recording is not None and record.role != "summary":
        from koe.memory.recordings import clock

        text = f"[{record.recording} {clock(record.offset or 0.0)}] {text}"
    lead = f"{score:5.2f}  " if score is not None else ""
    return f"{lead}{local(record.timestamp, zone):%Y-%m-%d %H:%M}  {record.role:<9}  " \
           f"{record.id}  {text}"


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False))


def run_add(args: argparse.Namespace) -> int:
    from koe.memory.errors import StoreError
    from koe.memory.records import new_id

    settings = _settings(args)
    at = _moment(args.at, settings)
    text = _stdin_text() if args.text == "-" else args.text
    memory_id = args.id or new_id()  # chosen before the write: a retry can reuse it
    with _open(args) as store:
        try:
            record = store.add_turn(args.role, text, args.conversation or new_id(), at=at,
                                    source="text", id=memory_id)
        except StoreError as exc:
            raise type(exc)(exc.message, hint=f"{exc.hint + '; ' if exc.hint else ''}then "
                            f"retry with --id {memory_id}: it is never stored twice") from exc
    if args.json:
        _print_json(record.to_json())
    else:
        print(record.id)
    return 0


def _stdin_text() -> str:
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise UsageError(f"standard input is not UTF-8 text (byte {exc.start})",
                         hint="convert it first, e.g. with iconv -t UTF-8") from None


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
                                limit=args.limit, source=args.source)
    zone = _zone(settings)
    for record in records:
        if args.json:
            _print_json(record.to_json())
        else:
            print(_line(record, zone))
    return 0


def run_conversations(args: argparse.Namespace) -> int:
    from koe.memory.inventory import conversations
    from koe.memory.timestamps import local

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
        print(f"{c.id}  {local(c.first, zone):%Y-%m-%d %H:%M} - {local(c.last, zone):%H:%M}  "
              f"{c.turns:>4} turns  {summary[:80]}")
    return 0


def run_forget(args: argparse.Namespace) -> int:
    from koe.memory.errors import MemoryInputError
    from koe.memory.forget import ForgetRequest, forget, select
    from koe.memory.selectors import ABOUT_THRESHOLD

    settings = _settings(args)
    if args.threshold is not None and args.about is None:
        raise UsageError("--threshold goes with --about (similarity in meaning)")
    try:
        request = ForgetRequest(
            tuple(args.ids), args.conversation, _when(args.before, settings), args.matching,
            args.about, ABOUT_THRESHOLD if args.threshold is None else args.threshold,
            recording=args.recording)
    except MemoryInputError as exc:
        raise UsageError(f"{exc}: IDs, --conversation, --before, --matching, --about or "
                         "--recording" if "say what to" in str(exc) else str(exc)) from exc
    zone = _zone(settings)
    with _open(args) as store:
        chosen = select(store, request)
        if not chosen:
            print("nothing to forget", file=sys.stderr)
            return 1 if args.ids else 0
        if args.dry_run:
            print(f"would forget {len(chosen)} memories:")
            _print_lines(chosen, zone, sys.stdout)
            return 0
        if not args.yes:
            _print_lines(chosen, zone, sys.stderr)
            if not (sys.stdin.isatty() and _confirm(f"Forget these {len(chosen)} memories?")):
                print(f"not forgotten: {len(chosen)} memories match; add --yes to forget them",
                      file=sys.stderr)
                return 1
        report = forget(store, chosen, compact_after=False if args.no_compact else None)
    print(f"forgot {report.forgotten} memories" + (":" if args.yes else ""))
    if args.yes:  # nobody saw the list before: show it now
        _print_lines(chosen, zone, sys.stdout)
    if report.compaction:
        c = report.compaction
        print(f"compacted {store.location}: {c.bytes_before / 1e6:.1f} MB -> "
              f"{c.bytes_after / 1e6:.1f} MB in {c.seconds:.1f} s")
    elif not store.embedded:
        print("the Chroma server keeps deleted data in its files until `chroma vacuum` runs "
              "on its host")
    return 0


def _print_lines(records: list[MemoryRecord], zone: tzinfo, out: Any) -> None:
    for record in records:
        print(f"  {_line(record, zone)}", file=out)


def _confirm(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def run_export(args: argparse.Namespace) -> int:
    from koe.memory.transfer import export_jsonl, export_to_file

    with _open(args) as store:
        if args.output and args.output != "-":
            count = export_to_file(store, Path(args.output))
        else:
            try:
                count = export_jsonl(store, sys.stdout)
            except BrokenPipeError:
                raise
            except OSError as exc:
                full = "disk full: " if exc.errno == errno.ENOSPC else ""
                raise KoeError(f"{full}cannot write the export to standard output "
                               f"({(exc.strerror or str(exc)).lower()})",
                               hint="export to a file with room (-o FILE)") from exc
    print(f"exported {count} memories", file=sys.stderr)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from koe.memory.transfer import import_jsonl

    def skipped(number: int, reason: str) -> None:
        print(f"koe: {args.file}:{number}: {reason}; skipped", file=sys.stderr)

    def noted(number: int, note: str) -> None:
        print(f"koe: {args.file}:{number}: {note}", file=sys.stderr)

    with _open(args) as store:
        if args.file == "-":
            report = import_jsonl(store, sys.stdin.buffer, skipped, noted)
        else:
            try:
                source = open(args.file, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise UsageError(f"cannot read {args.file}: {exc.strerror}") from exc
            with source:
                report = import_jsonl(store, source, skipped, noted)
    print(f"imported {report.imported} memories"
          + (f", skipped {len(report.skipped)} lines" if report.skipped else ""),
          file=sys.stderr)
    return 1 if report.skipped else 0


def run_stats(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from koe.memory.inventory import stats
    from koe.memory.timestamps import local

    settings = _settings(args)
    with _open(args) as store:
        s = stats(store)
    if args.json:
        _print_json(asdict(s))
        return 0
    zone = _zone(settings)

    def when(t: float | None) -> str:
        return "-" if t is None else f"{local(t, zone):%c}"

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
