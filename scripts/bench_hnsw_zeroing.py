#!/usr/bin/env python3
"""What keeping freed text out of chromadb's HNSW files costs, two ways, in one run.

    python3 scripts/bench_hnsw_zeroing.py [--processes 5]

1. koe's way (memory/chroma/calls.py): the index files' unused room zeroed when no chromadb
   call runs. One process, 1,000 memories, blocks of 15 `add_turn` + `recall` alternating
   with the zeroing off and on: p50 and p90 of each, both ways.
2. The way not taken: glibc filling every block it hands out and takes back
   (MALLOC_PERTURB_). Stage times (Whisper tiny.en on 3 s and 11 s of speech, a Piper
   sentence, `add_turn`, `recall` over 300 memories) in fresh processes with and without it,
   interleaved; medians over the processes. Needs ../shared/speech/jfk.flac.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import koe.memory.chroma.calls as chroma_calls
from koe.config.schema import MemorySettings, Settings
from koe.memory.recall import recall
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore

SPEECH = Path(__file__).resolve().parents[1].parent / "shared" / "speech" / "jfk.flac"
NOTE = "Everyday note number {} about groceries and chores."


def filled_store(count: int) -> MemoryStore:
    store = MemoryStore.open(MemorySettings(path=tempfile.mkdtemp(prefix="koe-bench-") + "/s"))
    store.add_many(MemoryRecord(f"m{i}", NOTE.format(i), "user", f"c{i // 20}", 1.7e9 + i * 60)
                   for i in range(count))
    return store


def milliseconds(fn: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return times


def zeroing_cost() -> None:
    zero = chroma_calls._zero_rooms
    times: dict[str, dict[str, list[float]]] = {way: {"add_turn": [], "recall": []}
                                                for way in ("without", "with")}
    said = iter(range(10**6))
    with filled_store(1000) as store:
        for block in range(16):
            way = "with" if block % 2 else "without"
            chroma_calls._zero_rooms = zero if way == "with" else lambda: None
            times[way]["add_turn"] += milliseconds(lambda: store.add_turn(
                "user", f"I moved the bike to shed number {next(said)} today.", "bike"), 15)
            times[way]["recall"] += milliseconds(lambda: recall(store, "where is the bike", 5), 15)
        chroma_calls._zero_rooms = zero
    for way, calls in times.items():
        print(f"  {way:>7} the zeroing: " + ", ".join(
            f"{name} p50 {statistics.median(t):.1f} ms, p90 {statistics.quantiles(t, n=10)[-1]:.1f}"
            for name, t in calls.items()))


def stage_times() -> dict[str, float]:
    """One process's medians (ms), printed as JSON by the child."""
    from koe.voice.audio.files import decode_file
    from koe.voice.stt.transcriber import Transcriber
    from koe.voice.tts.synthesizer import PiperSynthesizer

    settings = Settings()
    whisper = Transcriber.load(settings.stt)
    piper = PiperSynthesizer.load(settings.tts)
    speech = decode_file(SPEECH).samples
    piper.speak("Warm up.")
    said = iter(range(10**6))
    with filled_store(300) as store:
        stages = {
            "whisper 3 s": milliseconds(lambda: list(whisper.transcribe(
                speech[:3 * 16000]).segments), 5),
            "whisper 11 s": milliseconds(lambda: list(whisper.transcribe(speech).segments), 3),
            "piper sentence": milliseconds(lambda: piper.speak(
                "The weather tomorrow looks dry, with a light breeze from the west."), 5),
            "add_turn": milliseconds(lambda: store.add_turn(
                "user", f"I moved the bike to shed number {next(said)} today.", "bike"), 40),
            "recall": milliseconds(lambda: recall(store, "where is the bike", 5), 40),
        }
    return {name: statistics.median(t) for name, t in stages.items()}


def perturb_cost(processes: int) -> None:
    if not SPEECH.exists():
        print(f"  skipped: {SPEECH} is not here")
        return
    runs: dict[str, list[dict[str, float]]] = {"plain": [], "MALLOC_PERTURB_=165": []}
    for index in range(processes * 2):
        way = list(runs)[index % 2]
        env = {**os.environ, **({"MALLOC_PERTURB_": "165"} if way != "plain" else {})}
        done = subprocess.run([sys.executable, __file__, "--stages"], env=env, check=True,
                              capture_output=True, text=True)
        runs[way].append(json.loads(done.stdout.splitlines()[-1]))
    for way, results in runs.items():
        print(f"  {way:>20}: " + ", ".join(
            f"{name} {statistics.median(r[name] for r in results):.1f} ms"
            for name in results[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--stages", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages:
        print(json.dumps(stage_times()))
        return
    print("koe's zeroing of the unused room, one process, 1,000 memories:")
    zeroing_cost()
    print(f"glibc filling every block, {args.processes} processes each way (medians):")
    perturb_cost(args.processes)


if __name__ == "__main__":
    main()
