"""`koe serve`: refusals said in one line before any model loads; a server that starts, says
where it listens, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.sync.client import connect

from koe.voice.cli import main
from koe.voice.llm.server import LocalServer


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("koe: error: ") and len(lines) <= 2
    return lines[0]


def test_another_host_needs_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert "without a key" in refused(["serve", "realtime", "--host", "0.0.0.0"], capsys)


def test_the_key_variable_must_exist(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(["serve", "chat", "--api-key-env", "KOE_NO_SUCH_KEY"], capsys)
    assert "KOE_NO_SUCH_KEY" in line


def test_a_taken_port_is_said(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = refused(["serve", "realtime", "--port", str(port)], capsys)
    assert f"127.0.0.1:{port}" in line and "in use" in line


def test_a_bad_host_is_said(capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOE_SERVE_KEY", "k")
    line = refused(["serve", "chat", "--host", "no-such-host.invalid", "--api-key-env",
                    "KOE_SERVE_KEY"], capsys)
    assert "no-such-host.invalid" in line


@pytest.mark.slow
def test_it_serves_until_ctrl_c(qwen_server: LocalServer, koe_home: Path) -> None:
    env = {**os.environ, "KOE_HOME": str(koe_home)}
    serving = subprocess.Popen(
        [sys.executable, "-m", "koe.voice", "serve", "realtime", "--port", "0",
         "--endpoint", qwen_server.base_url, "--model", "qwen"],
        stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert "loading" in serving.stderr.readline()
        ready = serving.stderr.readline()
        assert "serving ws://127.0.0.1:" in ready
        url = ready.split("serving ")[1].split(";")[0]
        with connect(url) as ws:
            assert json.loads(ws.recv(timeout=30))["type"] == "session.created"
        serving.send_signal(signal.SIGINT)
        assert serving.wait(60) == 0
        assert "Traceback" not in serving.stderr.read()
    finally:
        if serving.poll() is None:
            serving.kill()
