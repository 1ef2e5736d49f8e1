"""Failures that reach the command line without a KoeError, said in one line each.

Commands raise KoeError for what they foresee; this is the net under them: an OS error
names its file and says what to do, and anything else is one line marked as a bug.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from koe.config.errors import KoeError, one_line

# Longest message printed: a huge argument echoed back must not flood the terminal.
MESSAGE_CHARS = 300


def os_failure(exc: OSError) -> KoeError:
    """`exc` as a one-line error naming the file it concerns and a hint at the fix."""
    name = exc.filename if isinstance(exc.filename, str | Path) else None
    where = f"{name}: " if name else ""
    reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
    if exc.errno == errno.ENOSPC:
        return KoeError(f"{where}disk full", hint="free some space on that disk and try again")
    if exc.errno == errno.ENAMETOOLONG:
        return KoeError(f"{shorten(str(name or ''), 60)}: file name too long")
    home = os.environ.get("KOE_HOME")
    if home and name and _is_within(Path(name), Path(home)):
        return KoeError(f"{where}{reason}", hint=f"KOE_HOME ({home}) must be a folder you can "
                        "write; set it to another one")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return KoeError(f"{where}{reason}",
                        hint="check the folder's permissions, or choose a folder you can write")
    return KoeError(f"{where}{reason}")


def unexpected_failure(exc: BaseException) -> KoeError:
    return KoeError(f"unexpected {type(exc).__name__}: {one_line(str(exc))}",
                    hint="this is a bug in koe; set KOE_DEBUG=1 to see where it happened")


def shorten(text: str, limit: int = MESSAGE_CHARS) -> str:
    """`text` on one line and at most `limit` characters."""
    return one_line(text, limit)


def _is_within(path: Path, folder: Path) -> bool:
    try:
        return path.absolute().is_relative_to(folder.absolute())
    except (OSError, ValueError):
        return False
