"""`koe serve` in a thread of its own for the tests: the cascade on a shared model server, the
Realtime and chat servers on real sockets, and spoken questions made by Piper."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from koe.config.schema import MemorySettings, Settings
from koe.voice.audio.resample import resample
from koe.voice.llm.provider import LlmProvider
from koe.voice.llm.server import LocalServer
from koe.voice.realtime.access import Access
from koe.voice.realtime.cascade import Cascade
from koe.voice.realtime.chat import ChatServer
from koe.voice.realtime.events import RATE, decode_audio, encode_audio
from koe.voice.realtime.server import Limits, RealtimeServer
from koe.voice.stt.wer import normalise
from koe.voice.tts.script import Line, speak_script
from koe.voice.tts.synthesizer import PiperSynthesizer
from koe.voice.turns.pcm import SAMPLE_RATE
from tests.voice.llm.helpers import greedy

T = TypeVar("T")


@dataclass
class Served:
    """Both servers on one cascade, run by a loop in another thread."""

    loop: asyncio.AbstractEventLoop
    cascade: Cascade
    realtime: RealtimeServer
    chat: ChatServer
    realtime_port: int
    chat_port: int

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    @property
    def base_url(self) -> str:
        return f"ws://127.0.0.1:{self.realtime_port}/v1"

    def transcribe(self, pcm24: np.ndarray) -> str:
        """The server's Whisper on 24 kHz audio (from an answer)."""
        pcm = resample(pcm24, RATE, SAMPLE_RATE)
        return self.call(self.cascade.parts.hearing.transcribe(pcm))

    def store_records(self) -> list:
        store = self.cascade.parts.memory.store
        return self.call(asyncio.to_thread(store.records))


def settings_in(folder: Path) -> Settings:
    settings = greedy(Settings())
    return settings.model_copy(update={"memory": MemorySettings(path=str(folder / "memory"))})


@contextmanager
def serving(settings: Settings, llm: LocalServer, access: Access | None = None,
            limits: Limits | None = None) -> Iterator[Served]:
    access = access or Access()
    ready: list[Served] = []
    failed: list[BaseException] = []
    started = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        cascade = await Cascade.load(settings, provider=LlmProvider(settings.llm, server=llm))
        cascade.summarize = False
        realtime = RealtimeServer(cascade, access, limits or Limits())
        chat = ChatServer(cascade, access)
        try:
            ready.append(Served(loop, cascade, realtime, chat, await realtime.start(),
                                await chat.start()))
            started.set()
            await stop.wait()
        finally:
            await realtime.stop()
            await chat.stop()
            await cascade.close()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        except BaseException as exc:
            failed.append(exc)
        finally:
            started.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(300)
    if failed or not ready:
        raise RuntimeError(f"the servers did not start: {failed}")
    try:
        yield ready[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(120)
        loop.close()


def spoken(synthesizer: PiperSynthesizer, text: str, silence_after: float = 1.5) -> np.ndarray:
    """`text` said by Piper at 24 kHz, with a little silence before and `silence_after`."""
    pcm16k, _ = speak_script(synthesizer, [Line(text, silence_after)], lead_in=0.3)
    return resample(pcm16k, SAMPLE_RATE, RATE)


def words(text: str) -> set[str]:
    return set(normalise(text))


def chunks_of(pcm: np.ndarray, seconds: float = 0.1) -> Iterator[np.ndarray]:
    step = int(RATE * seconds)
    for start in range(0, len(pcm), step):
        yield pcm[start:start + step]


class Wire:
    """A raw Realtime client over a websockets connection (sync): events as dicts."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.seen: list[dict] = []

    def send(self, type: str, **fields: Any) -> None:
        self.ws.send(json.dumps({"type": type, **fields}))

    def append(self, pcm: np.ndarray, seconds: float = 0.1) -> None:
        for chunk in chunks_of(pcm, seconds):
            self.send("input_audio_buffer.append", audio=encode_audio(chunk))

    def recv(self, timeout: float = 120.0) -> dict:
        received = json.loads(self.ws.recv(timeout=timeout))
        self.seen.append(received)
        return received

    def until(self, *types: str, timeout: float = 180.0) -> dict:
        """Events up to the first of one of `types` (returned); all are kept in `seen`."""
        while True:
            received = self.recv(timeout)
            if received["type"] in types:
                return received

    def types(self) -> list[str]:
        return [e["type"] for e in self.seen]

    def audio(self, response_id: str | None = None) -> np.ndarray:
        deltas = [decode_audio(e["delta"]) for e in self.seen
                  if e["type"] in ("response.output_audio.delta", "response.audio.delta")
                  and (response_id is None or e["response_id"] == response_id)]
        return np.concatenate(deltas) if deltas else np.zeros(0, np.int16)


def wait_for(check: Any, timeout: float = 120.0) -> Any:
    """Poll `check()` until it returns something true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"not so after {timeout} s")
