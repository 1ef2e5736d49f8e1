"""`koe doctor`: what koe found, and what to fix."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("doctor", help="check models, packages, audio and config",
                              description="Check what koe needs; exit 1 if anything is wrong.")
    p.add_argument("--json", action="store_true", help="one JSON object per check")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from koe.voice.doctor import run_checks

    checks = run_checks(args.config)
    for check in checks:
        if args.json:
            print(json.dumps(asdict(check)))
            continue
        print(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
        if check.hint:
            print(f"      hint: {check.hint}")
    problems = sum(not c.ok for c in checks)
    if not args.json:
        print(f"\n{problems} problem(s) found." if problems else "\nAll good.")
    return 1 if problems else 0
