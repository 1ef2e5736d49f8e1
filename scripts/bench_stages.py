#!/usr/bin/env python3
"""One voice turn's stages alone, without the loop: Whisper on a spoken question, the model's
first token and generation speed, and Piper on the reply.

    python3 scripts/bench_stages.py [--repeats 3]

A quick way to see where a slow `koe run` spends its time (and whether the machine is busy:
llama.cpp's generation collapses when another process takes a core).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time

from koe.config.schema import MemorySettings, Settings
from koe.voice.assistant.parts import Parts
from koe.voice.tts.script import Line, speak_script

QUESTIONS = ["Where does my brother Kenji live?", "What is the capital of Canada?"]


async def stages(repeats: int) -> None:
    store = tempfile.mkdtemp(prefix="koe-stages-")
    parts = await Parts.load(Settings(memory=MemorySettings(path=store)))
    try:
        pcm, _ = speak_script(parts.synthesizer, [Line(QUESTIONS[0], 0.2)], lead_in=0.2)
        for _ in range(repeats):
            began = time.perf_counter()
            text = await parts.hearing.transcribe(pcm)
            print(f"whisper   {time.perf_counter() - began:.2f} s  {text!r}")
        for question in QUESTIONS * repeats:
            draft = await parts.conversation.draft(question)
            began = time.perf_counter()
            first = None
            async for _ in parts.conversation.stream_draft(draft):
                first = first or time.perf_counter() - began
            total = time.perf_counter() - began
            stats = draft.outcome.stats
            tokens = stats.completion_tokens or 0
            speed = (tokens - 1) / (total - first) if first and total > first else 0.0
            print(f"llm       first token {first or 0:.2f} s, {tokens} tokens at {speed:.1f}/s, "
                  f"{stats.cached_tokens}/{stats.prompt_tokens} prompt tokens cached")
            began = time.perf_counter()
            said = await asyncio.to_thread(parts.synthesizer.speak, draft.outcome.reply)
            print(f"piper     {time.perf_counter() - began:.2f} s for {said.seconds:.1f} s of "
                  "speech")
    finally:
        await parts.close(summarize=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    asyncio.run(stages(parser.parse_args().repeats))


if __name__ == "__main__":
    main()
