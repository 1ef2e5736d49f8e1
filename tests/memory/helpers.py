"""Helpers for the memory tests: a real `chroma run` server, the paraphrase set, store files."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

DATA = Path(__file__).parent / "data"
# `chroma run` through the installed chromadb, whatever its script directory is.
CHROMA_CLI = ("import sys; from chromadb.cli.cli import app; "
              "sys.argv = ['chroma'] + sys.argv[1:]; app()")


def paraphrase_set() -> list[dict]:
    with (DATA / "paraphrases.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def store_bytes(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def files_containing(path: Path, needle: bytes) -> list[str]:
    return sorted(name for name, data in store_bytes(path).items() if needle in data)


@contextlib.contextmanager
def running_chroma(folder: Path, port: int | None = None) -> Iterator[str]:
    """`chroma run --path folder/data` on 127.0.0.1; yields its URL, stops it after."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = folder / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", CHROMA_CLI, "run", "--path", str(folder / "data"),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"chroma run exited: {log_path.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("chroma run did not answer within 60 s")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- the command line in a child process, small disks, a non-root user, silent servers --------

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Ran:
    code: int
    out: str
    err: str


def run_koe(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None,
            prefix: tuple[str, ...] = (), timeout: float = 120) -> Ran:
    """`koe ARGS` in a child process (its own interpreter, as a user runs it). Fails the test
    on a traceback: every failure a user meets is one line."""
    argv = [*prefix, sys.executable, "-m", "koe.voice.cli", *args]
    done = subprocess.run(argv, input=stdin or b"", capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=ROOT)
    ran = Ran(done.returncode, done.stdout.decode(errors="replace"),
              done.stderr.decode(errors="replace"))
    assert "Traceback" not in ran.err, ran.err
    return ran


def koe_memory(config: str | Path, *args: str) -> int:
    """`koe --config CONFIG memory ARGS` in this process (for its output through capsys)."""
    from koe.voice.cli import main

    return main(["--config", str(config), "memory", *args])


def write_config(file: Path, **memory: object) -> Path:
    """A settings file with these [memory] keys."""
    lines = ["[memory]"] + [f"{key} = {json.dumps(value)}" for key, value in memory.items()]
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return file


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder` (made here), unmounted after; the test is
    skipped, saying why, where mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                              str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill ({mounted.stderr.strip() or 'mount'}"
                    "); run as root, or where mount is permitted")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill_disk(folder: Path, leave: int = 0) -> Path:
    """A file taking the free space of `folder`'s disk but about `leave` bytes."""
    filler = folder / "filler"
    with filler.open("wb") as f:
        while (room := shutil.disk_usage(folder).free - leave) > 0:
            try:
                f.write(b"\0" * min(room, 1 << 20))
                f.flush()
            except OSError:
                break
    return filler


def non_root_prefix() -> tuple[str, ...]:
    """A command prefix that runs a child as a non-root user whose files look like its own
    (a user namespace mapping root to uid 1000), so file modes hold as for anyone; skips the
    test, saying why, where that is impossible."""
    if os.geteuid() != 0:
        return ()
    prefix = ("unshare", "--map-user=1000", "--map-group=1000")
    probe = subprocess.run([*prefix, "id", "-u"], capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip() != "1000":
        pytest.skip("cannot run as a non-root user here (unshare --map-user failed: "
                    f"{probe.stderr.strip()}); root ignores file modes")
    return prefix


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """An HTTP URL on 127.0.0.1 whose server accepts every connection and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


class StallingProxy:
    """A TCP proxy on 127.0.0.1 in front of `upstream` (host, port). Once `stall()` is
    called it keeps every connection open and passes nothing more back: a server that has
    stopped answering in the middle of a session."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.stalled = threading.Event()
        self.closing = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.sockets: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def stall(self) -> None:
        self.stalled.set()

    def __enter__(self) -> StallingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.thread.join()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client = self.listener.accept()[0]
            except TimeoutError:
                continue
            upstream = socket.create_connection(self.upstream)
            self.sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        source.settimeout(0.2)
        while not self.closing.is_set():
            if self.stalled.is_set():
                time.sleep(0.05)
                continue
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            if self.stalled.is_set():  # arrived while waiting: held back, like the rest
                continue
            with contextlib.suppress(OSError):
                target.sendall(data)
