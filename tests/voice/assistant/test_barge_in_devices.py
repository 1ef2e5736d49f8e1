"""Barge-in on real sound devices with koe hearing itself: the virtual speaker's monitor loops
back into the virtual microphone 100 ms later at half the amplitude, as in a room. koe talks
for seconds without interrupting itself; a user talking over it stops it at once, is heard as
the next question, and the stored reply holds only what was played."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings, Settings
from koe.memory.store import MemoryStore
from koe.voice.assistant.events import LoopEvent, StateChanged, TurnDone
from koe.voice.assistant.loop import Assistant
from koe.voice.assistant.parts import Parts
from koe.voice.assistant.report import TurnReport
from koe.voice.audio.echo.canceller import open_canceller
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.witness import Witness
from koe.voice.audio.microphone import Microphone
from koe.voice.audio.speaker import Speaker
from koe.voice.audio.virtual import MICROPHONE_FEED, VirtualAudio, echo_path, inject
from koe.voice.llm.provider import LlmProvider
from koe.voice.llm.server import LocalServer
from koe.voice.stt.wer import normalise
from koe.voice.tts.script import Line, speak_script
from koe.voice.tts.splitter import SentenceSplitter
from tests.voice.assistant.helpers import voice
from tests.voice.llm.helpers import greedy

pytestmark = pytest.mark.slow
STORY = "Tell me a story of at least ten sentences about a dragon who learns to bake bread."
CUT_IN = "Stop. What is two plus two?"
SPEAKS_FOR = 4.0  # seconds koe talks, hearing itself, before the user cuts in
WAIT = 240.0  # for anything the loop does, on a slow machine


def test_talking_over_koe_stops_it_and_its_own_voice_never_does(
        tmp_path: Path, virtual_audio: VirtualAudio, qwen_server: LocalServer) -> None:
    settings = greedy(Settings(memory=MemorySettings(path=str(tmp_path / "store"))))
    story, _ = speak_script(voice(), [Line(STORY, 0.0)], lead_in=0.0)
    cut_in, said = speak_script(voice(), [Line(CUT_IN, 0.0)], lead_in=0.0)
    env = virtual_audio.client_env()

    async def converse() -> tuple[list[TurnReport], float, float | None]:
        far = FarEnd()
        witness = Witness(far, open_canceller(far, "auto").near)
        turns: asyncio.Queue[TurnReport] = asyncio.Queue()
        speaking = asyncio.Event()

        def observe(event: LoopEvent) -> None:
            if isinstance(event, TurnDone):
                turns.put_nowait(event.report)
            elif isinstance(event, StateChanged) and event.state == "speaking":
                speaking.set()

        parts = await Parts.load(settings, provider=LlmProvider(settings.llm, server=qwen_server))
        assistant = Assistant(settings, parts.hearing, parts.conversation, parts.synthesizer,
                              SentenceSplitter, observe=observe, clean=witness)
        try:
            async with Speaker.from_settings(settings.audio, far=far) as speaker, \
                    Microphone.from_settings(settings.audio) as microphone:
                loop = asyncio.create_task(assistant.run(microphone, speaker))
                await inject(MICROPHONE_FEED, story, env)
                await asyncio.wait_for(speaking.wait(), WAIT)
                await asyncio.sleep(SPEAKS_FOR)
                sent_at = assistant.now()
                await inject(MICROPHONE_FEED, cut_in, env)
                reports = [await asyncio.wait_for(turns.get(), WAIT) for _ in range(2)]
                loop.cancel()
                quiet = witness.went_quiet(cut_in, sent_at, said[0].start)
                return reports, sent_at, quiet
        finally:
            await parts.close(summarize=False)

    with echo_path(virtual_audio, 100, 0.5):
        (told, answer), sent_at, quiet = asyncio.run(converse())

    assert told.interrupted and told.barge_in is not None
    assert told.barge_in > sent_at - 0.2  # no earlier: koe's own voice did not stop it
    assert quiet is not None and quiet < 1.0  # stopped at once (the soak measures how soon)
    assert 0 < len(told.spoken) < len(told.reply)
    heard = normalise(answer.transcript)
    assert "stop" in heard or {"two", "plus"} <= set(heard), answer.transcript
    with MemoryStore.open(settings.memory) as store:
        kept = next(r for r in store.records() if r.role == "assistant")
    assert kept.interrupted and kept.spoken == told.spoken  # only what was played
