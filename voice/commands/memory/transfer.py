"""`koe memory export | import`: JSON lines, written whole or not at all."""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path

from koe.config.errors import KoeError
from koe.voice.commands.memory.common import UsageError, open_store


def run_export(args: argparse.Namespace) -> int:
    from koe.memory.transfer import export_jsonl, export_to_file

    with open_store(args) as store:
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

    with open_store(args) as store:
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
