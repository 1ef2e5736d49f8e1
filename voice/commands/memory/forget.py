"""`koe memory forget`: exactly what was asked, listed, and gone from the disk."""

from __future__ import annotations

import argparse
import sys
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from koe.voice.commands.memory.common import (
    UsageError,
    line,
    memory_settings,
    open_store,
    when,
    zone_of,
)

if TYPE_CHECKING:
    from koe.memory.records import MemoryRecord

FORGET_HELP = """\
Forgotten memories are deleted, and on the embedded store the files are compacted so their
text leaves the disk. Selectors narrow each other: every one given must hold, so
`--matching car --before 2026-11-28` forgets only memories older than that which contain
the words "car". Every memory forgotten is listed (with --yes, after the fact); --dry-run
only lists them."""


def register_forget(sub: argparse._SubParsersAction) -> None:
    from koe.memory.forgetting.request import ABOUT_LIMIT, ABOUT_THRESHOLD

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


def run_forget(args: argparse.Namespace) -> int:
    from koe.memory.errors import MemoryInputError
    from koe.memory.forgetting.forget import ForgetRequest, forget, select
    from koe.memory.forgetting.request import ABOUT_THRESHOLD

    settings = memory_settings(args)
    if args.threshold is not None and args.about is None:
        raise UsageError("--threshold goes with --about (similarity in meaning)")
    try:
        request = ForgetRequest(
            tuple(args.ids), args.conversation, when(args.before, settings), args.matching,
            args.about, ABOUT_THRESHOLD if args.threshold is None else args.threshold,
            recording=args.recording)
    except MemoryInputError as exc:
        raise UsageError(f"{exc}: IDs, --conversation, --before, --matching, --about or "
                         "--recording" if "say what to" in str(exc) else str(exc)) from exc
    zone = zone_of(settings)
    with open_store(args) as store:
        chosen = select(store, request)
        if not chosen:
            print("nothing to forget", file=sys.stderr)
            return 1 if args.ids else 0
        if args.dry_run:
            print(f"would forget {len(chosen)} memories:")
            print_lines(chosen, zone, sys.stdout)
            return 0
        if not args.yes:
            print_lines(chosen, zone, sys.stderr)
            if not (sys.stdin.isatty() and confirm(f"Forget these {len(chosen)} memories?")):
                print(f"not forgotten: {len(chosen)} memories match; add --yes to forget them",
                      file=sys.stderr)
                return 1
        report = forget(store, chosen, compact_after=False if args.no_compact else None)
    print(f"forgot {report.forgotten} memories" + (":" if args.yes else ""))
    if args.yes:  # nobody saw the list before: show it now
        print_lines(chosen, zone, sys.stdout)
    if report.compaction:
        c = report.compaction
        print(f"compacted {store.location}: {c.bytes_before / 1e6:.1f} MB -> "
              f"{c.bytes_after / 1e6:.1f} MB in {c.seconds:.1f} s")
    elif not store.embedded:
        print("the Chroma server keeps deleted data in its files until `chroma vacuum` runs "
              "on its host")
    return 0


def print_lines(records: list[MemoryRecord], zone: tzinfo, out: Any) -> None:
    for record in records:
        print(f"  {line(record, zone)}", file=out)


def confirm(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False
