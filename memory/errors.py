"""Memory failures, each naming the store (its folder or server URL) and what to do."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

from koe.config.errors import KoeError, one_line

# A write that fails with less free space than this failed for want of space, whatever the
# library says (chromadb reports some full-disk failures as "Failed to apply logs ...").
LOW_SPACE_BYTES = 1 << 20
_FULL_WORDS = ("no space left", "disk is full", "database or disk is full", "quota exceeded")
_READ_ONLY_WORDS = ("readonly database", "read-only database", "read-only file system")


class StoreError(KoeError):
    """The memory store cannot be opened, read or written."""


class StoreLockedError(StoreError):
    """Another process holds the embedded store."""


class StoreUnavailableError(StoreError):
    """The Chroma server (memory.url) does not answer."""


class StoreFullError(StoreError):
    """The disk holding the embedded store is full."""


class StoreReadOnlyError(StoreError):
    """The embedded store's folder or files cannot be written."""


class MemoryInputError(KoeError):
    """A memory that cannot be stored as given (empty text, unknown role, ...)."""

    exit_code = 2


def reason(exc: BaseException) -> str:
    """An exception as one readable line."""
    return one_line(str(exc)) or type(exc).__name__


def store_failure(where: str, exc: BaseException, path: Path | None = None) -> StoreError:
    """A failed chromadb or file operation as the StoreError a user can act on."""
    if is_disk_full(exc, path):
        return disk_full(path or Path(where))
    if path is not None and _says(exc, _READ_ONLY_WORDS):
        return read_only(path)
    return StoreError(f"{where}: {reason(exc)}")


def server_failure(url: str, exc: BaseException, timeout: float) -> StoreError:
    """A failed request to a Chroma server; a timeout says which setting bounds it."""
    import httpx

    if any(isinstance(link, httpx.TimeoutException | TimeoutError) for link in _chain(exc)):
        return StoreUnavailableError(
            f"the Chroma server at {url} did not answer within {timeout:g} s (memory.timeout)",
            hint="check the server, or raise memory.timeout")
    return StoreError(f"Chroma server {url}: {reason(exc)}")


def disk_full(path: Path) -> StoreFullError:
    return StoreFullError(f"disk full: memory store {path} cannot be written",
                          hint="free some space on that disk and try again")


def read_only(path: Path, detail: str = "") -> StoreReadOnlyError:
    return StoreReadOnlyError(
        f"memory store {path} is read-only{f' ({detail})' if detail else ''}",
        hint=f"make it writable again (chmod -R u+w {path}), or set memory.path to "
             "another folder; koe needs to write even to read (a lock, its log)")


def is_disk_full(exc: BaseException, path: Path | None = None) -> bool:
    for link in _chain(exc):
        if isinstance(link, OSError) and link.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
    if _says(exc, _FULL_WORDS):
        return True
    return path is not None and free_bytes(path) < LOW_SPACE_BYTES


def free_bytes(path: Path) -> int:
    for folder in (path, *path.parents):
        try:
            return shutil.disk_usage(folder).free
        except OSError:
            continue
    return LOW_SPACE_BYTES  # nothing to measure: say nothing about space


def _says(exc: BaseException, words: tuple[str, ...]) -> bool:
    return any(word in str(link).lower() for link in _chain(exc) for word in words)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__
