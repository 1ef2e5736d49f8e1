"""The error hierarchy: every failure a user can meet says what went wrong and what to do."""

from __future__ import annotations


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
