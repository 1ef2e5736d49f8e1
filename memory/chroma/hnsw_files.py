"""chromadb's HNSW index files: the room no element uses yet is zeroed.

chromadb's hnswlib mallocs room for 100 elements and, each time a process creates the
index's writer while the index has never been saved (chromadb saves it after 1,000
writes), writes that whole room to data_level0.bin and length.bin uninitialised: freed
memory of the process (documents, a forgotten memory's text) lands on disk, and every
open, the first write after a compaction among them, writes it anew. Bytes past the
header's element count are never read, so they can be zeroed once chromadb is quiet
(memory/chroma/calls.py says when).
"""

from __future__ import annotations

import logging
import os
import re
import struct
from pathlib import Path

# hnswlib's persisted header starts: format version (int32), offsetLevel0, max_elements,
# cur_element_count, size_data_per_element (uint64 each), packed, little-endian.
HEADER = struct.Struct("<iQQQQ")
FORMAT = 1
FLOAT = 4  # length.bin: one float32 per element
UUID_DIR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

log = logging.getLogger(__name__)
Signature = tuple[int, int, int]


def index_folders(store: Path) -> list[Path]:
    """The folders holding an HNSW index (one per collection), by a cheap scan."""
    with os.scandir(store) as entries:
        return [Path(e.path) for e in entries if e.is_dir() and UUID_DIR.match(e.name)]


def signature(folder: Path) -> Signature | None:
    """What changes whenever chromadb writes the room (size, time, file)."""
    try:
        info = os.stat(os.path.join(folder, "data_level0.bin"))
    except FileNotFoundError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ino


def zero_unused_room(folder: Path) -> bool:
    """Zero data_level0.bin and length.bin past the elements in use; True if it wrote."""
    try:
        head = (folder / "header.bin").read_bytes()
    except FileNotFoundError:  # removed with its collection
        return False
    if len(head) < HEADER.size:
        return False
    version, _, _, count, per_element = HEADER.unpack_from(head)
    if version != FORMAT or per_element == 0:
        log.warning("%s: unknown HNSW file format %d; its unused room is left as chromadb "
                    "wrote it", folder, version)
        return False
    wrote = _zero_from(folder / "data_level0.bin", count * per_element)
    return _zero_from(folder / "length.bin", count * FLOAT) or wrote


def _zero_from(file: Path, start: int) -> bool:
    try:
        with file.open("r+b") as f:
            f.seek(start)
            room = f.read()
            if room.count(0) == len(room):
                return False
            f.seek(start)
            f.write(bytes(len(room)))
            f.flush()
            os.fsync(f.fileno())  # the zeros, not the old bytes, are what a crash keeps
    except FileNotFoundError:
        return False
    return True
