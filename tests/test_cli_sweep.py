"""Every command with every kind of bad argument: a non-zero exit, one line on stderr (and at
most a hint), never a traceback; and every command stops quietly when its output is closed.

The commands and their options are read from the parser itself, so a command or an option
added tomorrow is swept too. Each case runs `python3 -m koe.voice ...` as a user would, with
its own KOE_HOME, an LLM endpoint that refuses connections, and nothing on standard input.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from koe.voice.cli import PATH_TYPES, build_parser
from tests.net import port_of, refusing_port
from tests.privileges import as_unprivileged

pytestmark = pytest.mark.slow

HUGE = "x" * 100_000  # under Linux's 128 KiB limit for one argument
NOT_UTF8 = b"caf\xe9-\xff\xfe"  # Latin-1, then bytes no encoding gives
WRONG_TYPE = "not-a-number"
WAIT = 180  # a case still running after this has hung
WORKERS = min(8, (os.cpu_count() or 2) * 2)
# Commands that would start real work on valid input: swept for bad arguments, but not run
# "as is" into a closed pipe (the voice loop would listen until stopped).
NOT_RUN_AS_IS = {("run",)}


@dataclass(frozen=True)
class Case:
    kind: str
    argv: tuple[str | bytes, ...]

    def __str__(self) -> str:
        shown = " ".join(a if isinstance(a, str) else repr(a) for a in self.argv)
        return f"[{self.kind}] koe {shown[:160]}"


def commands() -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """(words, parser) of every command that takes no further subcommand."""
    def walk(parser: argparse.ArgumentParser, words: tuple[str, ...]):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            yield words, parser
        for action in subs:
            for name, sub in action.choices.items():
                yield from walk(sub, (*words, name))
    yield from walk(build_parser(), ())


def positionals(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not a.option_strings]


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Options that take a value (flags like --json take none)."""
    return [a for a in parser._actions if a.option_strings and a.nargs != 0]


def placeholder(action: argparse.Action) -> str:
    """A harmless value for an argument not under test."""
    if action.choices:
        return str(next(iter(action.choices)))
    return "missing.wav" if action.type in PATH_TYPES else "hello"


def required(parser: argparse.ArgumentParser) -> list[str]:
    return [placeholder(a) for a in positionals(parser) if a.nargs not in ("*", "?")]


def rejects(action: argparse.Action, value: str) -> bool:
    if action.choices:
        return value not in action.choices
    convert = action.type or str
    try:
        convert(value)
    except (TypeError, ValueError, argparse.ArgumentTypeError):
        return True
    return False


def bad_cases() -> Iterator[Case]:
    for words, parser in commands():
        if required(parser):
            yield Case("missing", words)
        for action in positionals(parser):
            before = [placeholder(a) for a in positionals(parser)[:positionals(parser).index(
                action)] if a.nargs not in ("*", "?")]
            for kind, value in (("empty", ""), ("non-UTF-8", NOT_UTF8), ("huge", HUGE)):
                yield Case(kind, (*words, *before, value))
        for action in options(parser):
            flag = action.option_strings[-1]
            base = (*words, *required(parser))
            yield Case("missing", (*base, flag))
            for kind, value in (("empty", ""), ("non-UTF-8", NOT_UTF8), ("huge", HUGE)):
                yield Case(kind, (*base, flag, value))
            if rejects(action, WRONG_TYPE):
                yield Case("wrong type", (*base, flag, WRONG_TYPE))


def closed_pipe_cases() -> Iterator[Case]:
    for words, parser in commands():
        yield Case("closed pipe", (*words, "--help"))
        if not required(parser) and words not in NOT_RUN_AS_IS:
            yield Case("closed pipe", words)


@dataclass(frozen=True)
class Outcome:
    case: Case
    code: int | None  # None: it hung
    stderr: str


def run(case: Case, home: Path, endpoint: str, closed_stdout: bool) -> Outcome:
    env = {**os.environ, "KOE_HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "KOE_LLM_ENDPOINT": endpoint, "KOE_LLM_MODEL": "m"}
    home.mkdir(parents=True)
    if closed_stdout and case.argv[0] == "memory" and "--help" not in case.argv:
        # Something to print: one memory, for list, export, stats, ...
        seeded = subprocess.run([sys.executable, "-m", "koe.voice", "memory", "add",
                                 "A note to list."], cwd=home, env=env, capture_output=True,
                                text=True, timeout=WAIT)
        assert seeded.returncode == 0, seeded.stderr
    read, write = os.pipe()
    if closed_stdout:
        os.close(read)  # the reader is gone before the first byte: `koe ... | head -0`
    try:
        done = subprocess.run([sys.executable, "-m", "koe.voice", *case.argv], cwd=home,
                              stdin=subprocess.DEVNULL,
                              stdout=write if closed_stdout else subprocess.DEVNULL,
                              stderr=subprocess.PIPE, env=env, timeout=WAIT)
    except subprocess.TimeoutExpired as exc:
        return Outcome(case, None, (exc.stderr or b"").decode(errors="replace"))
    finally:
        os.close(write)
        if not closed_stdout:
            os.close(read)
    return Outcome(case, done.returncode, done.stderr.decode(errors="replace"))


def run_all(cases: list[Case], tmp_path: Path, closed_stdout: bool = False) -> list[Outcome]:
    with refusing_port() as sock, ThreadPoolExecutor(WORKERS) as pool:
        endpoint = f"http://127.0.0.1:{port_of(sock)}/v1"
        return list(pool.map(lambda ic: run(ic[1], tmp_path / f"case{ic[0]}", endpoint,
                                            closed_stdout), enumerate(cases)))


def one_line_error(outcome: Outcome) -> str | None:
    """Why `outcome` is not a one-line refusal, or None when it is: a non-zero exit and a
    single line on stderr ("koe: error: ..." or a plain answer such as "nothing to forget"),
    perhaps followed by one hint line."""
    if outcome.code is None:
        return "hung"
    if "Traceback" in outcome.stderr:
        return "traceback"
    if outcome.code == 0:
        return "exit status 0"
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    if not lines:
        return "no message"
    if len(lines) > 2 or (len(lines) == 2 and not lines[1].startswith("  hint: ")):
        return f"{len(lines)} lines"
    if "unexpected" in lines[0]:
        return "an unforeseen failure (a bug)"
    return None


def report(failures: list[tuple[Outcome, str]]) -> str:
    return "\n".join(f"{why}: {o.case} -> {o.code}\n    {o.stderr.strip()[:400]}"
                     for o, why in failures)


def test_the_sweep_covers_every_command() -> None:
    names = {" ".join(words) for words, _ in commands()}
    assert {"transcribe", "chat", "doctor", "memory add", "memory forget"} <= names
    kinds = {c.kind for c in bad_cases()}
    assert kinds == {"missing", "empty", "non-UTF-8", "huge", "wrong type"}


def test_bad_arguments_get_one_line_and_no_traceback(tmp_path: Path) -> None:
    outcomes = run_all(list(bad_cases()), tmp_path)
    failures = []
    for outcome in outcomes:
        why = one_line_error(outcome)
        # A huge value may be a valid one (a long note to remember): then only no traceback.
        if outcome.case.kind == "huge" and outcome.code == 0 and why == "exit status 0":
            continue
        if why:
            failures.append((outcome, why))
    assert not failures, report(failures)


def test_a_closed_stdout_ends_every_command_quietly(tmp_path: Path) -> None:
    outcomes = run_all(list(closed_pipe_cases()), tmp_path, closed_stdout=True)
    failures = []
    for outcome in outcomes:
        if outcome.code is None:
            failures.append((outcome, "hung"))
        elif "Traceback" in outcome.stderr or "BrokenPipe" in outcome.stderr:
            failures.append((outcome, "traceback"))
        elif "unexpected" in outcome.stderr:
            failures.append((outcome, "an unforeseen failure (a bug)"))
    assert not failures, report(failures)


def koe_with_home(home: Path, *args: str, **popen: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KOE_HOME": str(home), "XDG_CONFIG_HOME": str(home.parent / "cfg")}
    return subprocess.run([sys.executable, "-m", "koe.voice", *args], capture_output=True,
                          text=True, env=env, timeout=WAIT, stdin=subprocess.DEVNULL, **popen)


@pytest.mark.parametrize("args", [
    ("chat", "--once", "hi", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m"),
    ("memory", "stats"),
    ("transcribe", "{speech}", "--model", "base", "-o", "{out}"),
])
def test_a_koe_home_that_cannot_be_written_is_named(tmp_path: Path, speech: list,
                                                    args: tuple[str, ...]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    home = locked / "koe"
    (tmp_path / "out").mkdir()
    locked.chmod(0o555)
    filled = [a.format(speech=speech[0].path, out=tmp_path / "out") for a in args]
    run = koe_with_home(home, *filled, **as_unprivileged())
    assert run.returncode != 0
    assert one_line_error(Outcome(Case("home", tuple(filled)), run.returncode, run.stderr)
                          ) is None, run.stderr
    assert str(home) in run.stderr.splitlines()[0]


def test_a_koe_home_inside_a_file_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    home = blocker / "koe"
    run = koe_with_home(home, "memory", "stats")
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert str(blocker) in run.stderr.splitlines()[0]
