#!/usr/bin/env python3
"""Soak: many turns of `koe run` in file mode; nothing may crash, lose a turn or leak.

    python3 scripts/soak.py [--turns 200] [--pause 12]

Speaks --turns questions (cycling through a set of everyday ones, the packaged Piper voice)
into one long recording with a pause after each, and runs the whole voice loop over it as
`koe run --input` does, with the embedded defaults and a fresh memory store. While it runs,
the resident memory of koe and of its language model server is sampled. Printed at the end:
turns answered and stored against questions asked, errors, the RSS after warm-up and at the
end (growth), and the peak RSS of the whole assistant.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from koe.config.schema import MemorySettings, Settings
from koe.memory.store import MemoryStore
from koe.voice.assistant.loop import Assistant
from koe.voice.assistant.parts import Parts
from koe.voice.assistant.report import TurnReport
from koe.voice.audio.filemode import FileMicrophone, FileSpeaker
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.wav import write_wav
from koe.voice.tts.script import Line, speak_script
from koe.voice.tts.splitter import SentenceSplitter
from koe.voice.tts.synthesizer import PiperSynthesizer

QUESTIONS = [
    "Remember that my bike lock code is four one seven two.",
    "What is a good stretch for a stiff neck?",
    "What is my bike lock code?",
    "Give me a word that rhymes with orange.",
    "How many minutes are in three hours?",
    "My friend Ravi is visiting on Sunday.",
    "Who is visiting on Sunday?",
    "Suggest a quick vegetarian dinner.",
    "What is the tallest mountain in Africa?",
    "Thanks, that's all for now.",
]
WARM_UP_TURNS = 10
SAMPLE_SECONDS = 5.0


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, in MB."""
    total = 0
    for p in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


async def soak(settings: Settings, question: Path, reply: Path, samples: list[tuple[int, float]],
               ) -> list[TurnReport]:
    parts = await Parts.load(settings)
    assistant = Assistant(settings, parts.hearing, parts.conversation, parts.synthesizer,
                          SentenceSplitter)

    async def sample() -> None:
        while True:
            samples.append((len(assistant.reports), rss_mb(os.getpid())))
            await asyncio.sleep(SAMPLE_SECONDS)

    sampler = asyncio.create_task(sample())
    try:
        async with FileSpeaker(reply) as speaker, FileMicrophone(question) as microphone:
            return await assistant.run(microphone, speaker)
    finally:
        sampler.cancel()
        await parts.close(summarize=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--pause", type=float, default=12.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="koe-soak-"))
    settings = Settings(memory=MemorySettings(path=str(work / "store")))
    voice = PiperSynthesizer.load(settings.tts)
    lines = [Line(QUESTIONS[i % len(QUESTIONS)], args.pause) for i in range(args.turns)]
    pcm, said = speak_script(voice, lines)
    question = write_wav(work / "questions.wav", pcm, SAMPLE_RATE)
    print(f"{args.turns} questions, {len(pcm) / SAMPLE_RATE / 60:.1f} minutes of input")

    samples: list[tuple[int, float]] = []
    began = time.monotonic()
    reports = asyncio.run(soak(settings, question, work / "replies.wav", samples))
    minutes = (time.monotonic() - began) / 60
    with MemoryStore.open(settings.memory) as store:
        stored = store.records()
    asked = [r for r in stored if r.role == "user"]
    answered = [r for r in stored if r.role == "assistant"]
    errors = [r for r in reports if r.error]
    warm = [mb for turns, mb in samples if turns >= WARM_UP_TURNS] or [s[1] for s in samples]
    print(f"ran {minutes:.1f} min; turns: {len(said)} asked, {len(reports)} answered, "
          f"{len(asked)} questions and {len(answered)} replies stored, {len(errors)} errors")
    print(f"RSS (koe + LLM server): after {WARM_UP_TURNS} turns {warm[0]:.0f} MB, "
          f"at the end {warm[-1]:.0f} MB (growth {warm[-1] - warm[0]:+.0f} MB), "
          f"peak {max(mb for _, mb in samples):.0f} MB")
    for e in errors[:5]:
        print(f"  error: {e.transcript!r}: {e.error}")
    print(f"files: {work}")


if __name__ == "__main__":
    main()
