"""A reply's ready chunks: a bounded wait for the producer, yet a cancelled producer can always
close the queue (no deadlock between cancelling a reply and a full queue)."""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np

from koe.voice.realtime.cascade import ReadyChunks, system_prompt
from koe.voice.tts.chunk import SpokenChunk


def chunk() -> SpokenChunk:
    return SpokenChunk("word", np.full(100, 2000, dtype=np.int16), 22050)


def test_the_producer_waits_when_the_queue_is_full_and_closes_it_when_cancelled() -> None:
    async def scenario() -> list[int]:
        ready = ReadyChunks(2)
        sizes = []

        async def produce() -> None:
            try:
                for _ in range(10):
                    await ready.put(chunk())
            finally:
                await ready.put(None)

        task = asyncio.create_task(produce())
        await asyncio.sleep(0.05)
        sizes.append(ready.qsize())  # it waits with 2 ready
        await ready.get()
        await asyncio.sleep(0.05)
        sizes.append(ready.qsize())  # one taken, one more made
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        sizes.append(ready.qsize())  # and the END went in over the bound
        return sizes

    assert asyncio.run(scenario()) == [2, 2, 3]


def test_the_clients_instructions_follow_koes_prompt() -> None:
    assert system_prompt("").startswith("You are koe")
    prompt = system_prompt("  Speak like a pirate. ")
    assert prompt.startswith("You are koe") and prompt.endswith("\n\nSpeak like a pirate.")
