"""The embedded LLM server: llama.cpp's server as a child process on 127.0.0.1.

Started on demand, checked before every turn (a crashed server is started again), stopped on
exit. The child watches its standard input, so it also goes away when koe is killed.
"""

from __future__ import annotations

import atexit
import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from koe.config.errors import KoeError
from koe.config.paths import cache_dir
from koe.config.schema import LocalLlmSettings
from koe.voice.llm.child import READY_PREFIX
from koe.voice.llm.models import resolve_gguf

STOP_GRACE_SECONDS = 5.0


class LocalServerError(KoeError):
    """The local LLM server could not be started."""


class LocalServer:
    """One llama.cpp server child process serving one model."""

    def __init__(self, settings: LocalLlmSettings, log_path: Path | None = None) -> None:
        self.settings = settings
        self.log_path = log_path or cache_dir() / "llm-server.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._url: str | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (".../v1") of the running server."""
        if self._url is None:
            raise LocalServerError("the local language model server is not running")
        return f"{self._url}/v1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def ensure_running(self) -> str:
        """Start the server if it is not running (first use, or after a crash); its base URL."""
        if not self.running or not self._listening():
            self.stop()
            self.start()
        return self.base_url

    def _listening(self) -> bool:
        """Whether the port still accepts connections. A killed server closes its socket a
        moment before the process can be reaped, so `running` alone may still say yes."""
        assert self._url is not None
        parts = urlsplit(self._url)
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=1.0):
                return True
        except OSError:
            return False

    def start(self) -> None:
        model = resolve_gguf(self.settings.model)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "koe.voice.llm.child", "--model", str(model),
                   "--context-size", str(self.settings.context_size),
                   "--threads", str(self.settings.threads or os.cpu_count() or 1),
                   "--chat-template", self.settings.chat_template]
        with self.log_path.open("wb") as log:  # the latest run only
            self._proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                # Its own session: a Ctrl-C in the terminal reaches koe, which decides.
                start_new_session=True,
            )
        atexit.register(self.stop)
        deadline = time.monotonic() + self.settings.startup_timeout
        try:
            self._url = self._read_ready_line(deadline)
            self._wait_healthy(deadline)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the child: close its stdin (it exits at once), then insist if it does not."""
        proc, self._proc, self._url = self._proc, None, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        if proc.stdin:
            proc.stdin.close()
        for action in (None, proc.terminate, proc.kill):
            if action:
                action()
            try:
                proc.wait(STOP_GRACE_SECONDS)
                break
            except subprocess.TimeoutExpired:
                continue
        if proc.stdout:
            proc.stdout.close()

    def __enter__(self) -> LocalServer:
        self.ensure_running()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _read_ready_line(self, deadline: float) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            while (remaining := deadline - time.monotonic()) > 0:
                if not selector.select(remaining):
                    break
                line = self._proc.stdout.readline().decode(errors="replace")
                if not line:
                    raise self._failure("exited while loading the model")
                if line.startswith(READY_PREFIX):
                    return line[len(READY_PREFIX):].strip()
        raise self._failure(f"did not load the model within {self.settings.startup_timeout:g} s")

    def _wait_healthy(self, deadline: float) -> None:
        assert self._url is not None
        while time.monotonic() < deadline:
            if not self.running:
                raise self._failure("exited while starting")
            try:
                if httpx.get(f"{self._url}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise self._failure("did not become healthy in time")

    def _failure(self, what: str) -> LocalServerError:
        last = _last_log_line(self.log_path)
        return LocalServerError(
            f"the local language model server {what}" + (f": {last}" if last else ""),
            hint=f"see {self.log_path}; try a smaller llm.local.context_size, or check the "
            "model with `koe doctor`",
        )


def _last_log_line(path: Path) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
            lines = [ln.strip() for ln in f.read().decode(errors="replace").splitlines()]
    except OSError:
        return ""
    errors = [ln for ln in lines if " E " in ln or "error" in ln.lower()]
    return (errors or [ln for ln in lines if ln] or [""])[-1][:200]
