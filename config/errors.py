"""The error hierarchy: every failure a user can meet says what went wrong and what to do.

Also the one way such a failure is shown (`print_error`) and the one way a foreign message
(a server's reply, a library's exception) is cut to a readable line (`one_line`).
"""

from __future__ import annotations

import sys
from typing import TextIO


class KoeError(Exception):
    """A failure with a one-line reason and, where there is one, a hint at the fix."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class AudioError(KoeError):
    """An audio file could not be read or decoded."""


class ModelError(KoeError):
    """A model could not be found, assembled or loaded."""


def one_line(text: str, limit: int = 200) -> str:
    """`text` flattened to one line and cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def print_error(message: object, hint: str = "", file: TextIO | None = None) -> None:
    """`koe: error: MESSAGE` and, when there is one, an indented hint."""
    out = file or sys.stderr
    print(f"koe: error: {message}", file=out)
    if hint:
        print(f"  hint: {hint}", file=out)
