"""What a person at the terminal sees of the loop: a status line, the conversation, and with
--verbose every event with its time."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console
from rich.status import Status

from koe.voice.assistant.events import Heard, LoopEvent, Said, StateChanged, Trouble, TurnDone

LABELS = {"listening": "listening", "hearing": "hearing you", "thinking": "thinking",
          "speaking": "speaking"}


class ConsoleView:
    """Observer of the loop. The status line appears only on a terminal; the conversation is
    printed to `out` (None: not at all, e.g. when stdout carries the JSON report)."""

    def __init__(self, out: TextIO | None = sys.stdout, verbose: bool = False,
                 err: TextIO = sys.stderr) -> None:
        self.out = out
        self.verbose = verbose
        self.console = Console(file=err, highlight=False)
        self.status: Status | None = None
        if self.console.is_terminal:
            self.status = Status(LABELS["listening"], console=self.console)
            self.status.start()
        self._state = "listening"

    def __call__(self, event: LoopEvent) -> None:
        if self.verbose:
            self.console.print(f"[dim]{event.at:8.2f} s[/dim]  {_describe(event)}")
        if isinstance(event, StateChanged):
            self._state = event.state
            self._show(LABELS[event.state])
        elif isinstance(event, Heard) and not event.final:
            self._show(f"{LABELS[self._state]}: {event.text}")
        elif isinstance(event, TurnDone) and self.out is not None:
            self._print(f"you: {event.report.transcript}")
            if event.report.spoken:
                self._print(f"koe: {event.report.spoken}")
        elif isinstance(event, Trouble):
            self.console.print(f"koe: {event.message}", style="yellow")
            if event.hint:
                self.console.print(f"  hint: {event.hint}", style="dim")

    def note(self, text: str) -> None:
        """A line about koe itself (loading, ready): on a terminal only."""
        if self.console.is_terminal:
            self.console.print(f"koe: {text}", style="dim")

    def close(self) -> None:
        if self.status is not None:
            self.status.stop()

    def _show(self, text: str) -> None:
        if self.status is not None:
            self.status.update(text)

    def _print(self, line: str) -> None:
        if self.status is not None and self.out is sys.stdout:
            self.console.print(line, markup=False)  # above the status line
        else:
            print(line, file=self.out, flush=True)


def _describe(event: LoopEvent) -> str:
    if isinstance(event, StateChanged):
        return event.state
    if isinstance(event, Heard):
        return f"heard{'' if event.final else ' so far'}: {event.text}"
    if isinstance(event, Said):
        return f"saying: {event.text}"
    if isinstance(event, Trouble):
        return f"trouble: {event.message}"
    report = event.report
    latency = f"{report.latency:.2f} s" if report.latency is not None else "-"
    return f"turn done, voice to voice {latency}, {len(report.memories)} memories quoted"
