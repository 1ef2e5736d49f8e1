"""Where a transcription run will write, decided and checked before any audio is decoded.

A run is refused up front, in one line, when an output would overwrite one of its inputs,
when two inputs would write the same output, or when an output folder cannot be written:
finding out after an hour of transcription, or never (one transcript silently replacing
another), is what this prevents.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from koe.config.errors import KoeError
from koe.config.schema import TranscribeSettings

STDOUT = "-"


class RunRefused(KoeError):
    """The run as asked would lose data or could not deliver; nothing was done."""

    exit_code = 2


@dataclass(frozen=True)
class Plan:
    inputs: tuple[Path, ...]  # each named once, in the order given
    outputs: dict[Path, tuple[Path, ...]]  # per input; empty when writing to stdout


def output_location(path: Path, settings: TranscribeSettings) -> Path | None:
    """Folder the outputs of `path` go to; None means standard output."""
    if settings.output_dir == STDOUT:
        return None
    return Path(settings.output_dir).expanduser() if settings.output_dir else path.parent


def plan_run(paths: Sequence[Path], settings: TranscribeSettings) -> Plan:
    inputs = tuple(dict.fromkeys(paths, None))  # the same name twice is one input
    by_identity = {_identity(p): p for p in inputs}
    claimed: dict[object, Path] = {}
    outputs: dict[Path, tuple[Path, ...]] = {}
    for path in inputs:
        folder = output_location(path, settings)
        targets = () if folder is None else tuple(
            folder / f"{path.stem}.{fmt}" for fmt in settings.formats)
        for target in targets:
            key = _identity(target)
            victim = by_identity.get(key)
            if victim is not None:
                whose = "the recording itself" if victim == path else f"the input {victim}"
                raise RunRefused(f"{path}: its transcript {target} would overwrite {whose}",
                                 hint="rename the recording, or write transcripts elsewhere "
                                 "with -o DIR")
            if key in claimed:
                raise RunRefused(f"{claimed[key]} and {path} would both write {target}",
                                 hint="transcribe them in separate runs with different -o "
                                 "folders, or rename one of them")
            claimed[key] = path
        outputs[path] = targets
    for folder in dict.fromkeys(t.parent for ts in outputs.values() for t in ts):
        check_writable(folder)
    return Plan(inputs, outputs)


def check_writable(folder: Path) -> None:
    """Raise RunRefused unless transcripts can be written into `folder` (created later if
    missing): probed with a real file, since permissions alone do not tell (root, read-only
    mounts, a full disk)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "it is" if existing == folder else f"{existing} is"
        raise RunRefused(f"cannot write transcripts to {folder}: {what} a file, not a folder",
                         hint="choose another folder with -o DIR")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".koe-write-check-"):
            pass
    except OSError as exc:
        reason = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc)).lower()
        raise RunRefused(f"cannot write transcripts to {folder}: {reason}",
                         hint="choose another folder with -o DIR, or check its permissions"
                         ) from exc


def _identity(path: Path) -> object:
    """What makes two names the same file: device and inode when it exists (hard links,
    symbolic links, `./a` and `a`), else the absolute path with links resolved."""
    try:
        st = path.stat()
        return (st.st_dev, st.st_ino)
    except OSError:
        return os.path.normcase(path.expanduser().resolve())
