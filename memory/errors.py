"""Memory failures, each naming the store (its folder or server URL) and what to do."""

from __future__ import annotations

from koe.config.errors import KoeError


class StoreError(KoeError):
    """The memory store cannot be opened, read or written."""


class StoreLockedError(StoreError):
    """Another process holds the embedded store."""


class StoreUnavailableError(StoreError):
    """The Chroma server (memory.url) does not answer."""


class MemoryInputError(KoeError):
    """A memory that cannot be stored as given (empty text, unknown role, ...)."""

    exit_code = 2
