"""`koe run` on real sound devices: a question spoken into the virtual microphone is answered
on the virtual speaker, from memory, and both sides of the turn are remembered."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings
from koe.memory.store import MemoryStore
from koe.voice.audio.files import from_int16
from koe.voice.audio.virtual import Recorder, VirtualAudio, inject
from koe.voice.stt.transcriber import Transcriber
from koe.voice.stt.wer import normalise
from koe.voice.tts.script import Line, speak_script
from tests.voice.assistant.helpers import voice
from tests.voice.llm.helpers import GREEDY_ENV

pytestmark = pytest.mark.slow
FACT = "My sister Hannah's birthday is on the twelfth of May."


class Lines:
    """A child's stderr, read line by line in a thread, waited on by content."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True


def test_a_spoken_question_is_answered_aloud_from_memory(
        tmp_path: Path, virtual_audio: VirtualAudio, qwen_path: Path,
        transcriber: Transcriber) -> None:
    store_path = tmp_path / "store"
    with MemoryStore.open(MemorySettings(path=str(store_path))) as store:
        store.add_turn("user", FACT, "earlier", at=time.time() - 3 * 86400)
    question, _ = speak_script(voice(), [Line("When is my sister Hannah's birthday?", 0.5)],
                               lead_in=0.3)
    env = {**virtual_audio.client_env(), **GREEDY_ENV, "KOE_LLM_LOCAL_MODEL": str(qwen_path),
           "KOE_LLM_LOCAL_CONTEXT_SIZE": "2048", "KOE_MEMORY_PATH": str(store_path)}
    koe = subprocess.Popen([sys.executable, "-m", "koe.voice", "run", "--verbose"], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        said = Lines(koe)
        assert said.wait_for("listening", timeout=600), "\n".join(said.lines)
        with Recorder("vspk.monitor", virtual_audio.client_env()) as speaker:
            asyncio.run(inject("vmic_feed", question, virtual_audio.client_env()))
            assert said.wait_for("turn done", timeout=300), "\n".join(said.lines)
        koe.send_signal(signal.SIGINT)  # Ctrl-C ends the conversation
        out, _ = koe.communicate(timeout=300)
    finally:
        if koe.poll() is None:
            koe.kill()
    assert koe.returncode == 0, "\n".join(said.lines)
    assert not any("Traceback" in line for line in said.lines)

    run = transcriber.transcribe(from_int16(speaker.samples()))
    heard = normalise(" ".join(s.text for s in run.segments))
    assert "may" in heard and {"twelfth", "12th", "12"} & set(heard), heard
    asked = [line for line in out.splitlines() if line.startswith("you: ")]
    assert len(asked) == 1 and {"sister", "birthday"} <= set(normalise(asked[0])), out
    with MemoryStore.open(MemorySettings(path=str(store_path))) as store:
        roles = [r.role for r in store.records() if r.conversation != "earlier"]
    assert roles == ["user", "assistant"]  # one exchange is too short to need a summary


