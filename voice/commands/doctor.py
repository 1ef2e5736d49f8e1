"""`koe doctor`: what koe found, and what to fix."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("doctor", help="check models, packages, audio and config",
                              description="Check what koe needs; exit 1 if anything is wrong. "
                              "What only some commands need (sound devices for `koe run`) "
                              "is noted, not counted as a problem.")
    p.add_argument("--json", action="store_true", help="one JSON object per check")
    p.add_argument("--echo", action="store_true",
                   help="measure the echo path instead: play a test sound on the speaker, "
                   "record the microphone, report the echo's delay and level, and what the "
                   "echo canceller removes")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from koe.voice.doctor import run_checks

    if args.echo:
        return _echo(args)

    checks = run_checks(args.config)
    for check in checks:
        if args.json:
            print(json.dumps(asdict(check)), flush=True)
            continue
        needed_by = _needed_by(check)
        label = "ok  " if check.ok else "note" if needed_by else "FAIL"
        detail = f"{check.detail} (only {needed_by} needs it)" if label == "note" else check.detail
        print(f"{label}  {check.name}: {detail}")
        if check.hint:
            print(f"      hint: {check.hint}")
    problems = sum(not c.ok and not _needed_by(c) for c in checks)
    missing = sorted({_needed_by(c) for c in checks if not c.ok and _needed_by(c)})
    if not args.json:
        summary = f"{problems} problem(s) found." if problems else "All good."
        if missing:
            summary += f" Not ready for {', '.join(missing)}: see the notes above."
        print(f"\n{summary}")
    return 1 if problems else 0


def _echo(args: argparse.Namespace) -> int:
    import asyncio

    from koe.config.loader import load_settings
    from koe.voice.audio.echo.probe import probe_devices

    if not args.json:
        print("Measuring the echo path: a 4-second test sound plays on the speaker.", flush=True)
    report = asyncio.run(probe_devices(load_settings(args.config).audio))
    print(json.dumps(asdict(report.figures)) if args.json else report.describe())
    return 0


def _needed_by(check: object) -> str:
    """The commands a failing check matters to, when it is not all of koe."""
    return getattr(check, "needed_by", "")
