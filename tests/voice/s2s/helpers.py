"""Helpers for the speech-to-speech tests: settings for an endpoint, real Piper speech at the
protocol's 24 kHz, and a conversation in file mode through `koe run`'s loop for a mode."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

import numpy as np

from koe.config.schema import MemorySettings, S2sSettings, Settings
from koe.voice.assistant.parts import Parts
from koe.voice.assistant.report import TurnReport
from koe.voice.audio.filemode import FileMicrophone, FileSpeaker
from koe.voice.audio.files import to_int16
from koe.voice.audio.resample import resample
from koe.voice.s2s.loop import build_loop
from koe.voice.s2s.mode import provider_for
from tests.voice.assistant.helpers import voice

RATE = 24000
# What the user once told koe, and what the stand-in endpoints answer: a short reply, a long
# story (to be talked over), a short reply.
FACT = "My sister Hannah's birthday is on the twelfth of May."
REPLIES = ["Her birthday is on the twelfth of May.",
           "Once upon a time a small robot lived in a quiet town by the sea, and every morning "
           "it walked along the beach to collect shells for all of its friends, who waited for "
           "it at the harbour with warm bread and tea.",
           "Of course, go ahead."]


class StandIn(Protocol):
    """A fake endpoint serving on a real socket."""

    port: int

    def running(self) -> AbstractAsyncContextManager[object]: ...


def s2s_settings(tmp_path: Path, url: str, mode: str = "realtime", **s2s: object) -> Settings:
    return Settings(memory=MemorySettings(path=str(tmp_path / "store")),
                    s2s=S2sSettings(mode=mode, url=url, model="fake-model", **s2s))


def spoken(text: str, rate: int = RATE) -> np.ndarray:
    """`text` said by the packaged Piper voice, int16 at `rate`."""
    chunk = voice().speak(text)
    return to_int16(resample(chunk.pcm.astype(np.float32) / 32768, chunk.sample_rate, rate))



def converse(mode: str, settings: Settings, fake: StandIn, question: Path, reply: Path,
             tail_seconds: float = 0.0) -> list[TurnReport]:
    """The loop `koe run --mode MODE` runs, against `fake`, over the `question` file;
    koe's side of the talk is written to `reply`."""
    async def go() -> list[TurnReport]:
        async with fake.running():
            settings.s2s.url = f"http://127.0.0.1:{fake.port}/v1"
            provider = provider_for(settings.s2s.mode, settings.llm, settings.s2s)
            parts = await Parts.load(settings, provider=provider)
            loop = build_loop(mode, settings, parts, lambda event: None, lambda chunk: chunk)
            try:
                async with FileSpeaker(reply) as speaker, \
                        FileMicrophone(question, tail_seconds=tail_seconds) as microphone:
                    return await loop.assistant.run(microphone, speaker)
            finally:
                await loop.aclose()
                await parts.close(summarize=False)
    return asyncio.run(go())
