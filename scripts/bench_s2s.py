#!/usr/bin/env python3
"""First audio through `koe serve realtime`, against the cascade's voice-to-voice latency, in
one run on one model server.

    python3 scripts/bench_s2s.py [--conversations 3] [--pause 12] [--sdk-turns 20]

The cascade side is bench_latency.py's: each conversation (spoken questions, the packaged
Piper voice) played through file mode as `koe run --input` does, latency read off the files
from the end of each question's voice to the first sound of the reply. The Realtime side asks
the same questions through the official `openai` SDK's Realtime client, streamed at the pace
they were spoken, with server VAD set like koe's endpointing (600 ms of silence): latency from
the moment the end of the question's voice was sent to the first audio delta, and to the first
sound a player starting at that delta would play. Both sides get a fresh copy of the same
memory store per conversation, and take turns going first.

`--sdk-turns N`: also N spoken turns in a row on one SDK connection, counting protocol errors.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench_latency import CONVERSATIONS, measure, run_once, seed_memory, summary
from realtime_sdk import SdkTurn, converse

from koe.config.schema import MemorySettings, Settings
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.resample import resample
from koe.voice.audio.wav import write_wav
from koe.voice.llm.provider import LlmProvider
from koe.voice.llm.server import LocalServer
from koe.voice.realtime.access import Access
from koe.voice.realtime.cascade import Cascade
from koe.voice.realtime.events import RATE
from koe.voice.realtime.server import RealtimeServer
from koe.voice.tts.chunk import SILENCE_LEVEL
from koe.voice.tts.script import Line, speak_script
from koe.voice.tts.synthesizer import PiperSynthesizer

SILENCE_MS = 600  # koe's default endpoint silence (listen.endpoint = "default")


@dataclass(frozen=True)
class Question:
    text: str
    pcm: np.ndarray  # 24 kHz, lead-in and trailing silence included
    voice_end: float  # seconds into `pcm` where the voice stops


@dataclass(frozen=True)
class Latency:
    first_delta: float | None
    first_sound: float | None


def say(voice: PiperSynthesizer, text: str) -> Question:
    pcm, said = speak_script(voice, [Line(text, 1.5)], lead_in=0.5)
    return Question(text, resample(pcm, SAMPLE_RATE, RATE), said[0].end)


def latency(turn: SdkTurn, question: Question) -> Latency:
    if turn.first_delta is None:
        return Latency(None, None)
    spoken_end = turn.started + question.voice_end
    loud = np.flatnonzero(np.abs(turn.audio.astype(np.int32)) > SILENCE_LEVEL)
    sound = turn.first_delta + loud[0] / RATE if loud.size else None
    return Latency(turn.first_delta - spoken_end,
                   None if sound is None else sound - spoken_end)


async def through_realtime(settings: Settings, server: LocalServer, questions: list[Question],
                           realtime: bool = True) -> list[SdkTurn]:
    cascade = await Cascade.load(settings, provider=LlmProvider(settings.llm, server=server))
    cascade.summarize = False
    serving = RealtimeServer(cascade, Access())
    port = await serving.start()
    try:
        return await converse(f"ws://127.0.0.1:{port}/v1", [q.pcm for q in questions],
                              beta=False, silence_ms=SILENCE_MS, realtime=realtime)
    finally:
        await serving.stop()
        await cascade.close()


def with_store(base: Settings, seeded: Path, store: Path) -> Settings:
    shutil.copytree(seeded, store)
    return base.model_copy(update={"memory": MemorySettings(path=str(store))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=3)
    parser.add_argument("--pause", type=float, default=12.0,
                        help="cascade: seconds of silence after each question")
    parser.add_argument("--sdk-turns", type=int, default=0,
                        help="then this many spoken turns in a row on one SDK connection")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="koe-bench-s2s-"))
    base = Settings()
    voice = PiperSynthesizer.load(base.tts)
    seeded = work / "seeded-store"
    seed_memory(seeded)
    cascade_latencies: list[float] = []
    served: list[tuple[str, Latency]] = []
    with LocalServer(base.llm.local, log_path=work / "llm.log") as server:
        for c, texts in enumerate(CONVERSATIONS[: args.conversations]):
            for side in (["cascade", "realtime"] if c % 2 == 0 else ["realtime", "cascade"]):
                settings = with_store(base, seeded, work / f"store-{c}-{side}")
                if side == "cascade":
                    pcm, said = speak_script(voice, [Line(q, args.pause) for q in texts])
                    question = write_wav(work / f"q{c}.wav", pcm, SAMPLE_RATE)
                    reply = work / f"r{c}.wav"
                    reports = asyncio.run(run_once(settings, server, question, reply, False))
                    for t in measure("koe", c, said, reply, reports):
                        if t.latency is not None:
                            cascade_latencies.append(t.latency)
                        print(f"  cascade  {c}: {_s(t.latency)}  {texts[t.index]} -> "
                              f"{t.report.reply if t.report else '(no turn)'}")
                else:
                    questions = [say(voice, q) for q in texts]
                    turns = asyncio.run(through_realtime(settings, server, questions))
                    for q, turn in zip(questions, turns, strict=True):
                        served.append((q.text, latency(turn, q)))
                        print(f"  realtime {c}: {turn.status:>9} {_s(served[-1][1].first_delta)}"
                              f" {_s(served[-1][1].first_sound)}  {q.text} -> {turn.transcript}")
        report(cascade_latencies, served)
        if args.sdk_turns:
            sdk_turns(base, seeded, work, server, voice, args.sdk_turns)
    print(f"\nfiles: {work}")


def report(cascade: list[float], served: list[tuple[str, Latency]]) -> None:
    deltas = [x.first_delta for _, x in served if x.first_delta is not None]
    sounds = [x.first_sound for _, x in served if x.first_sound is not None]
    print("\nend of the question's voice -> first audio of the answer:")
    print(summary("cascade (first sound, file mode)", cascade))
    print(summary("realtime first delta", deltas))
    print(summary("realtime first sound", sounds))
    base = statistics.median(cascade)
    print(f" ratio p50: realtime first delta / cascade = {statistics.median(deltas) / base:.2f}x"
          f"; first sound / cascade = {statistics.median(sounds) / base:.2f}x")
    print(f"missed turns: realtime {len(served) - len(deltas)}")


def sdk_turns(base: Settings, seeded: Path, work: Path, server: LocalServer,
              voice: PiperSynthesizer, count: int) -> None:
    texts = list(itertools.islice(itertools.cycle(itertools.chain(*CONVERSATIONS)), count))
    questions = [say(voice, q) for q in texts]
    settings = with_store(base, seeded, work / "store-sdk")
    turns = asyncio.run(through_realtime(settings, server, questions, realtime=False))
    errors = [e for t in turns for e in t.errors]
    completed = sum(t.status == "completed" for t in turns)
    print(f"\nofficial SDK, {count} spoken turns on one connection: {completed}/{len(turns)} "
          f"completed, {len(errors)} protocol errors")
    for error in errors:
        print(f"  error: {error}")


def _s(value: float | None) -> str:
    return f"{value:5.2f} s" if value is not None else " missed"


if __name__ == "__main__":
    main()
