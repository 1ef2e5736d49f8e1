"""The voice loop end to end in file mode: spoken questions in, spoken answers out, remembered.

Real parts throughout: Piper speaks the questions, webrtcvad endpoints them, Whisper hears
them, the packaged Qwen answers through llama.cpp, Piper speaks the answers, and Whisper
checks what was said. Answers are checked by normalised words, never exact text.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings, Settings
from koe.memory.store import MemoryStore
from koe.voice.assistant.loop import Assistant
from koe.voice.assistant.parts import Parts
from koe.voice.assistant.report import TurnReport
from koe.voice.audio.echo.canceller import open_canceller
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.room import EchoRoom
from koe.voice.audio.filemode import FileMicrophone, FileSpeaker
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.wav import write_wav
from koe.voice.llm.provider import LlmProvider
from koe.voice.llm.server import LocalServer
from koe.voice.stt.transcriber import Transcriber
from koe.voice.stt.wer import normalise
from koe.voice.tts.script import Line
from koe.voice.tts.splitter import SentenceSplitter
from tests.net import port_of, refusing_port
from tests.voice.assistant.helpers import (
    first_sound_after,
    question_file,
    sound_between,
    words_said,
)
from tests.voice.llm.helpers import GREEDY_ENV, greedy
from tests.voice.turns.signals import click, cough, door_slam, room, silence

pytestmark = pytest.mark.slow
# Half-duplex: a question asked while koe still answers the last one is not heard, so each
# question leaves room for the answer, also on a slow or busy machine.
PAUSE = 20.0
# koe's own voice back into the microphone 120 ms later at 40 %: a speaker across a room.
ROOM_ECHO = (120.0, 0.4)
FACT = "My sister Hannah's birthday is on the twelfth of May."


def settings_for(tmp_path: Path) -> Settings:
    return greedy(Settings(memory=MemorySettings(path=str(tmp_path / "store"))))


def converse(settings: Settings, server: LocalServer, question: Path, reply: Path,
             echo: tuple[float, float] | None = None) -> list[TurnReport]:
    """The loop over `question`, as `koe run --input --output [--echo DELAY_MS,GAIN]`."""
    async def go() -> list[TurnReport]:
        provider = LlmProvider(settings.llm, server=server)
        parts = await Parts.load(settings, provider=provider)
        far = FarEnd()
        canceller = open_canceller(far, "auto" if echo else "none")
        room = EchoRoom(far, *echo) if echo else None
        try:
            assistant = Assistant(settings, parts.hearing, parts.conversation,
                                  parts.synthesizer, SentenceSplitter, clean=canceller.near)
            async with FileSpeaker(reply, far=far) as speaker, \
                    FileMicrophone(question, room=room) as microphone:
                return await assistant.run(microphone, speaker)
        finally:
            await parts.close()
    return asyncio.run(go())


def test_two_questions_are_two_turns_and_the_answer_uses_memory(
        tmp_path: Path, qwen_server: LocalServer, transcriber: Transcriber) -> None:
    settings = settings_for(tmp_path)
    with MemoryStore.open(settings.memory) as store:
        store.add_turn("user", FACT, "earlier", at=time.time() - 3 * 86400)
    said = question_file(tmp_path / "q.wav", [Line("When is my sister Hannah's birthday?", PAUSE),
                                              Line("What is the capital of France?", PAUSE)])
    reports = converse(settings, qwen_server, tmp_path / "q.wav", tmp_path / "r.wav")

    told = [(r.transcript, r.reply) for r in reports]
    assert len(reports) == 2, told
    assert "hannah" in " ".join(normalise(reports[0].transcript)), told
    assert reports[0].memories and "Hannah" in reports[0].memories[0]
    heard = words_said(transcriber, tmp_path / "r.wav")
    assert "may" in heard and {"twelfth", "12th", "12"} & set(heard), (told, heard)
    assert "paris" in heard, (told, heard)
    # Each reply starts after its question ended, on the input's timeline.
    for line, report in zip(said, reports, strict=True):
        assert first_sound_after(tmp_path / "r.wav", line.end) is not None
        assert report.first_audio is not None and report.first_audio > line.end
    with MemoryStore.open(settings.memory) as store:
        turns = [r for r in store.records() if r.conversation != "earlier"]
    # Every utterance and reply, then the conversation's summary as it ended.
    assert [r.role for r in turns] == ["user", "assistant", "user", "assistant", "summary"]
    assert {r.source for r in turns[:4]} == {"voice"}


def test_noise_and_silence_start_no_turn(tmp_path: Path, qwen_server: LocalServer) -> None:
    pcm = room(silence(1.0), click(30), silence(1.0), cough(), silence(1.0), door_slam(),
               silence(3.0))
    write_wav(tmp_path / "noise.wav", pcm, SAMPLE_RATE)
    reports = converse(settings_for(tmp_path), qwen_server, tmp_path / "noise.wav",
                       tmp_path / "r.wav")
    assert reports == []
    assert first_sound_after(tmp_path / "r.wav", 0.0) is None


def test_a_question_with_a_pause_inside_is_answered_once(
        tmp_path: Path, qwen_server: LocalServer, transcriber: Transcriber) -> None:
    question_file(tmp_path / "q.wav", [Line("What is the capital", 0.45),
                                       Line("of Japan?", PAUSE)])
    reports = converse(settings_for(tmp_path), qwen_server, tmp_path / "q.wav",
                       tmp_path / "r.wav")
    assert len(reports) == 1
    assert normalise(reports[0].transcript)[-2:] == ["of", "japan"]
    heard = words_said(transcriber, tmp_path / "r.wav")
    assert "tokyo" in heard, (reports[0].reply, heard)


def test_koe_run_in_file_mode_writes_replies_and_a_report(
        tmp_path: Path, qwen_path: Path, transcriber: Transcriber) -> None:
    """The real command, as a user or a script runs it."""
    question_file(tmp_path / "q.wav", [Line("What colour is the sky on a clear day?", PAUSE)])
    env = {**os.environ, **GREEDY_ENV, "KOE_LLM_LOCAL_MODEL": str(qwen_path),
           "KOE_LLM_LOCAL_CONTEXT_SIZE": "2048", "KOE_MEMORY_PATH": str(tmp_path / "store")}
    done = subprocess.run([sys.executable, "-m", "koe.voice", "run", "--input",
                           str(tmp_path / "q.wav"), "--output", str(tmp_path / "r.wav"),
                           "--report", "-"], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    turns = json.loads(done.stdout)["turns"]
    assert len(turns) == 1 and turns[0]["latency"] > 0
    heard = words_said(transcriber, tmp_path / "r.wav")
    assert "blue" in heard, (turns[0]["reply"], heard)
    assert "Traceback" not in done.stderr


def test_file_mode_needs_an_input_for_its_output(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "koe.voice", "run", "--output",
                           str(tmp_path / "r.wav")], capture_output=True, text=True)
    assert done.returncode != 0
    assert done.stderr.startswith("koe: error: --output needs --input")


def test_a_missing_input_file_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "koe.voice", "run", "--input",
                           str(tmp_path / "nope.wav")], capture_output=True, text=True)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "nope.wav" in done.stderr.splitlines()[0]


def test_an_unreachable_model_is_said_in_one_sentence_and_koe_listens_on(
        tmp_path: Path, transcriber: Transcriber) -> None:
    question_file(tmp_path / "q.wav", [Line("What time is it in Tokyo?", PAUSE),
                                       Line("Are you there?", PAUSE)])
    with refusing_port() as sock:
        done = subprocess.run(
            [sys.executable, "-m", "koe.voice", "run", "--input", str(tmp_path / "q.wav"),
             "--output", str(tmp_path / "r.wav"), "--report", "-", "--endpoint",
             f"http://127.0.0.1:{port_of(sock)}/v1", "--model", "any"],
            capture_output=True, text=True, timeout=600,
            env={**os.environ, "KOE_MEMORY_PATH": str(tmp_path / "store")})
    assert done.returncode == 0, done.stderr
    turns = json.loads(done.stdout)["turns"]
    assert len(turns) == 2 and all(t["error"] for t in turns)  # both questions were heard
    assert "Traceback" not in done.stderr
    heard = " ".join(words_said(transcriber, tmp_path / "r.wav"))
    assert heard.count("language model") == 2  # "I can't reach the language model right now."
    with MemoryStore.open(MemorySettings(path=str(tmp_path / "store"))) as store:
        asked = [r.text for r in store.records() if r.role == "user"]
    assert len(asked) == 2  # what the user said is kept, though nothing could answer it


def test_a_microphone_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "koe.voice", "run", "--input-device",
                           "no-such-microphone-anywhere"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr and lines[0].startswith("koe: error:")
    assert "no-such-microphone-anywhere" in lines[0] or "microphone" in lines[0]


def test_talking_over_koe_stops_it_and_the_turn_keeps_what_was_heard(
        tmp_path: Path, qwen_server: LocalServer) -> None:
    # The user cuts in 7 s after asking: after the reply has begun, even on a busy machine
    # (its first sound comes 2-5 s after the question), and before even a two-sentence reply
    # is over, whatever the model makes of the request (it has told the story in two
    # sentences, and said it knew no such dragon).
    said = question_file(tmp_path / "q.wav", [
        Line("Tell me a long story about a dragon who learns to bake bread.", 7.0),
        Line("Stop. What is two plus two?", PAUSE)])
    settings = settings_for(tmp_path)
    reports = converse(settings, qwen_server, tmp_path / "q.wav", tmp_path / "r.wav",
                       echo=ROOM_ECHO)

    story, answer = reports
    assert story.interrupted and story.barge_in is not None
    assert abs(story.barge_in - said[1].start) < 0.5  # heard from the onset of the speech
    assert 0 < len(story.spoken) < len(story.reply)
    # koe went quiet within a moment of being talked over (the benchmark says how soon) and
    # stayed quiet while the user spoke; the interruption itself was the next question.
    assert not sound_between(tmp_path / "r.wav", said[1].start + 1.0, said[1].end)
    # (Whisper, hearing the user through the canceller's double talk, at times drops the
    # short "Stop." before the pause; the question itself is always there.)
    assert {"what", "two", "plus"} <= set(normalise(answer.transcript))
    assert "four" in normalise(answer.spoken)
    with MemoryStore.open(settings.memory) as store:
        told = next(r for r in store.records() if r.role == "assistant")
    assert told.interrupted and told.spoken == story.spoken  # only what was played


def test_koe_s_own_voice_never_interrupts_it(tmp_path: Path, qwen_server: LocalServer) -> None:
    question_file(tmp_path / "q.wav", [
        Line("Tell me about the history of the bicycle, in a few sentences.", 45.0)])
    reports = converse(settings_for(tmp_path), qwen_server, tmp_path / "q.wav",
                       tmp_path / "r.wav", echo=ROOM_ECHO)
    assert len(reports) == 1  # the echo started no turn of its own
    told = reports[0]
    assert not told.interrupted and told.barge_in is None
    # Several seconds of koe's voice came back through the room (the model's reply
    # length varies: "bread" heard as "Brad" once got a 17-word answer).
    assert told.spoken and len(told.spoken.split()) >= 12
