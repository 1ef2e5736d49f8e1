"""koe's Realtime client against `koe serve realtime` over a real socket, both as a user runs
them: `koe run --mode realtime --input q.wav --output r.wav` asks a spoken question, koe's own
server (Whisper, the packaged Qwen, Piper) answers it, and the client keeps both turns in its
memory with the fact it recalled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings
from koe.memory.store import MemoryStore
from koe.voice.stt.transcriber import Transcriber
from koe.voice.stt.wer import normalise
from koe.voice.tts.script import Line
from tests.net import free_port
from tests.voice.assistant.helpers import question_file, words_said
from tests.voice.llm.helpers import GREEDY_ENV

pytestmark = pytest.mark.slow
FACT = "My sister Hannah's birthday is on the twelfth of May."
STARTUP_SECONDS = 600


@pytest.fixture
def koe_serve(tmp_path: Path, qwen_path: Path) -> Iterator[int]:
    """`koe serve realtime` on a free port, with no memory of its own: what the client
    recalls is all the model is told."""
    port = free_port()
    env = {**os.environ, **GREEDY_ENV, "KOE_HOME": str(tmp_path / "server"),
           "KOE_LLM_LOCAL_MODEL": str(qwen_path), "KOE_LLM_LOCAL_CONTEXT_SIZE": "2048"}
    log = open(tmp_path / "serve.log", "w+")  # noqa: SIM115 - read back while it runs
    server = subprocess.Popen([sys.executable, "-m", "koe.voice", "serve", "realtime",
                               "--port", str(port), "--no-memory"], stderr=log,
                              stdout=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "koe: serving" not in (tmp_path / "serve.log").read_text():
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "koe serve realtime did not start"
            time.sleep(0.5)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def test_koe_run_in_realtime_mode_through_koe_serve(tmp_path: Path, koe_serve: int,
                                                    transcriber: Transcriber) -> None:
    store_path = tmp_path / "client-store"
    with MemoryStore.open(MemorySettings(path=str(store_path))) as store:
        store.add_turn("user", FACT, "earlier", at=time.time() - 3 * 86400)
    said = question_file(tmp_path / "q.wav",
                         [Line("When is my sister Hannah's birthday?", 25.0)])
    env = {**os.environ, "KOE_HOME": str(tmp_path / "client"),
           "KOE_MEMORY_PATH": str(store_path),
           "KOE_S2S_URL": f"http://127.0.0.1:{koe_serve}/v1", "KOE_S2S_REPLY_TIMEOUT": "120"}
    done = subprocess.run([sys.executable, "-m", "koe.voice", "run", "--mode", "realtime",
                           "--input", str(tmp_path / "q.wav"), "--output",
                           str(tmp_path / "r.wav"), "--report", "-", "--verbose"],
                          capture_output=True,
                          text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    turns = json.loads(done.stdout)["turns"]
    assert len(turns) == 1, done.stderr
    assert "hannah" in " ".join(normalise(turns[0]["transcript"]))
    assert turns[0]["memories"] and "Hannah" in turns[0]["memories"][0]
    assert turns[0]["first_audio"] > said[0].end
    assert not turns[0]["interrupted"] and turns[0]["spoken"] == turns[0]["reply"].strip()
    heard = words_said(transcriber, tmp_path / "r.wav")
    assert "may" in heard or {"twelfth", "12th", "12"} & set(heard), heard

    with MemoryStore.open(MemorySettings(path=str(store_path))) as store:
        kept = [r for r in store.records() if r.conversation != "earlier"]
    roles = [r.role for r in sorted(kept, key=lambda r: r.timestamp)]
    assert roles[:2] == ["user", "assistant"]
    assert {r.source for r in kept if r.role != "summary"} == {"voice"}
