"""The `koe` command line: global options, then one subcommand module per job."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import NoReturn

from koe.config.errors import KoeError, print_error
from koe.voice.failures import os_failure, shorten, unexpected_failure

COMMAND_MODULES = (
    "koe.voice.commands.run",
    "koe.voice.commands.transcribe",
    "koe.voice.commands.doctor",
    "koe.voice.commands.memory",
    "koe.voice.commands.chat",
    "koe.voice.commands.devices",
    "koe.voice.commands.serve",
)


# Exit status when standard output was closed under us (`koe ... | head`): 128 + SIGPIPE,
# what a shell reports for a program the pipe stopped.
STDOUT_CLOSED = 141


def path_arg(text: str) -> Path:
    """An argument naming a file or folder: any bytes the file system allows, never empty."""
    if not text:
        raise argparse.ArgumentTypeError("the path is empty")
    return Path(text)


# Argument types whose values are file names: they may hold bytes that are not UTF-8.
PATH_TYPES: tuple[object, ...] = (Path, path_arg)


class Parser(argparse.ArgumentParser):
    """argparse that says a usage error in one line (and a hint), as every koe error is said,
    and refuses empty values and text that is not UTF-8 for every option of every command.
    Subcommand parsers are made of the same class."""

    def error(self, message: str) -> NoReturn:
        print_error(shorten(message), f"see '{self.prog} --help'")
        raise SystemExit(2)

    def _get_value(self, action: argparse.Action, arg_string: str) -> object:
        if isinstance(action, argparse._SubParsersAction):  # its parser checks the rest
            return super()._get_value(action, arg_string)
        is_path = action.type in PATH_TYPES
        if not arg_string and (is_path or action.type in (None, str, int, float)):
            raise argparse.ArgumentError(action, "the value is empty")
        if not is_path and not _is_utf8(arg_string):
            # Python keeps undecodable bytes as lone surrogates; they would fail much later,
            # in a store, a request or a print.
            raise argparse.ArgumentError(
                action, f"not UTF-8 text ({ascii(os.fsencode(arg_string))[:40]})")
        return super()._get_value(action, arg_string)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="koe", description="koe: a local voice assistant that remembers."
    )
    parser.add_argument("--config", metavar="PATH", type=path_arg,
                        help="settings file (default: ~/.config/koe/config.toml)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure ends as one line on stderr and an exit status."""
    try:
        code = _dispatch(argv)
        sys.stdout.flush()  # buffered output meets a closed pipe here, not at exit
        return code
    except BrokenPipeError:
        return _stdout_closed()


def _dispatch(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except SystemExit as exc:  # argparse: --help, or a usage error already said
        return exc.code if isinstance(exc.code, int) else 1
    except KoeError as exc:
        _report(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("koe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise
    except OSError as exc:
        _report(os_failure(exc), exc)
        return 1
    except Exception as exc:
        _report(unexpected_failure(exc), exc)
        return 70  # EX_SOFTWARE


def _report(error: KoeError, cause: BaseException | None = None) -> None:
    if cause is not None and os.environ.get("KOE_DEBUG"):
        traceback.print_exception(cause)
    print_error(shorten(error.message), shorten(error.hint))


def _stdout_closed() -> int:
    """The reader went away (`koe doctor --json | head`): stop quietly. Standard output is
    pointed at /dev/null so the interpreter's own flush at exit has nowhere to fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return STDOUT_CLOSED


if __name__ == "__main__":
    sys.exit(main())
