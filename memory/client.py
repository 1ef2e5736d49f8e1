"""Open chromadb: embedded on disk (one process at a time, by lock) or a Chroma server.

Every failure becomes a StoreError naming the folder or the URL. A folder that holds
something other than a koe store, or a store whose collection vanished, is an error:
koe never starts an empty store over data it cannot read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from koe.config.errors import KoeError, one_line
from koe.config.paths import data_dir, private_dir
from koe.memory.errors import StoreError, StoreLockedError, StoreUnavailableError

SQLITE_FILE = "chroma.sqlite3"
LOCK_FILE = "koe.lock"
MARKER_FILE = "koe-store.json"
STORE_FORMAT = 1


def default_store_path() -> Path:
    return data_dir() / "memory"


def chroma_settings(**extra: Any) -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False, **extra)


@dataclass
class Connection:
    """An open chromadb client plus what koe holds for it."""

    client: Any
    location: str  # folder or URL, for messages
    path: Path | None = None  # embedded only
    lock_fd: int | None = None

    @property
    def embedded(self) -> bool:
        return self.path is not None

    def reopen(self, between: Callable[[], None]) -> None:
        """Close chromadb (keeping the lock), run `between` on the quiet files, reopen."""
        assert self.path is not None
        path = self.path
        with contextlib.suppress(Exception):
            self.client.close()
        try:
            between()
        finally:
            self.client = chroma_call(path, lambda: _persistent_client(path))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.lock_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.lock_fd, fcntl.LOCK_UN)
                os.close(self.lock_fd)
            self.lock_fd = None


def open_embedded(path: Path) -> Connection:
    path = path.expanduser()
    _check_folder(path)
    private_dir(path)
    lock_fd = _lock(path)
    try:
        client = chroma_call(path, lambda: _persistent_client(path))
    except BaseException:
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        os.close(lock_fd)
        raise
    return Connection(client, str(path), path=path, lock_fd=lock_fd)


def _persistent_client(path: Path) -> Any:
    import chromadb

    client = chromadb.PersistentClient(path=str(path), settings=chroma_settings())
    client.heartbeat()
    return client


def open_http(url: str, timeout: float) -> Connection:
    import chromadb

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise StoreError(f"memory.url {url!r} is not an http(s) URL",
                         hint='use e.g. memory.url = "http://127.0.0.1:8000"')
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        client = chromadb.HttpClient(host=parsed.hostname, port=port,
                                     ssl=parsed.scheme == "https", settings=chroma_settings())
        _set_http_timeout(client, timeout)
        client.heartbeat()
    except Exception as exc:
        raise StoreUnavailableError(
            f"the Chroma server at {url} does not answer ({reason(exc)})",
            hint=f"start it (chroma run --path DIR --host {parsed.hostname} --port {port}) "
                 "or set memory.url = \"\" for the embedded store") from exc
    return Connection(client, url)


def _set_http_timeout(client: Any, timeout: float) -> None:
    """chromadb's HTTP client waits forever by default; a dead server must not hang koe."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None:
        session.timeout = httpx.Timeout(timeout)


def _check_folder(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise StoreError(f"memory store {path} is a file, not a folder",
                         hint="set memory.path to a folder")
    if not path.is_dir():
        return
    names = {p.name for p in path.iterdir()} - {LOCK_FILE}
    if names and SQLITE_FILE not in names:
        raise StoreError(
            f"{path} is not empty and holds no memory store ({SQLITE_FILE} is missing)",
            hint="point memory.path at an empty or koe-made folder; koe will not start a "
                 "new store over files it does not know")


def _lock(path: Path) -> int:
    lock_path = path / LOCK_FILE
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StoreLockedError(
            f"memory store {path} is in use by another process (pid {holder})",
            hint="close the other koe, or share memory between programs with a Chroma "
                 "server (memory.url)") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def chroma_call(path: Path, fn: Any) -> Any:
    """Run fn; chromadb's Rust core panics (BaseException) on some damaged files."""
    try:
        return fn()
    except (KeyboardInterrupt, SystemExit, KoeError):
        raise
    except BaseException as exc:
        raise StoreError(
            f"memory store {path} cannot be opened; it looks damaged ({reason(exc)})",
            hint=f"move {path} aside and restore it from `koe memory export` output or a "
                 "backup; koe does not start an empty store over it") from exc


def reason(exc: BaseException) -> str:
    """An exception as one readable line."""
    return one_line(str(exc)) or type(exc).__name__


def read_marker(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads((path / MARKER_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path / MARKER_FILE} is unreadable ({exc})") from exc


def write_marker(path: Path, collection: str) -> None:
    data = {"format": STORE_FORMAT, "collection": collection, "created": time.time()}
    tmp = path / (MARKER_FILE + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path / MARKER_FILE)
