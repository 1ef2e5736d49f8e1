"""Helpers for the memory tests: a real `chroma run` server, the paraphrase set, store files."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

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
