"""Model files shipped split across several packages: join them, hash them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

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
