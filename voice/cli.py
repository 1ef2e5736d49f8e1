"""The `koe` command line: global options, then one subcommand module per job."""

from __future__ import annotations

import argparse
import importlib
import sys

from koe.config.errors import KoeError, print_error

COMMAND_MODULES = (
    "koe.voice.commands.transcribe",
    "koe.voice.commands.doctor",
    "koe.voice.commands.memory",
    "koe.voice.commands.chat",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="koe", description="koe: a local voice assistant that remembers."
    )
    parser.add_argument("--config", metavar="PATH",
                        help="settings file (default: ~/.config/koe/config.toml)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KoeError as exc:
        print_error(exc, exc.hint)
        return exc.exit_code
    except KeyboardInterrupt:
        print("koe: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
