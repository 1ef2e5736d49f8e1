#!/usr/bin/env python3
"""Piper's memory and speed under each way onnxruntime can hold memory, in one run.

    python3 scripts/bench_tts_memory.py [--passes 3]
    python3 scripts/bench_tts_memory.py --only koe      # one configuration, as JSON

Each configuration loads the packaged voice in a process of its own (so the resident size is
the voice's alone), says the longest sentence first (its memory at its peak), then sentences
of every other length, `--passes` times over: the resident size after each pass is what a
conversation's new sentence lengths do to it. Then the time to synthesize a reply-sized
sentence (median of 6). Configurations: onnxruntime's defaults (arena and per-shape memory
plans), koe's (the arena without the plans), and neither.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from soak_memory import rss_mb

from koe.config.schema import TtsSettings
from koe.voice.tts.synthesizer import PiperSynthesizer, SessionMemory

CONFIGURATIONS = {
    "onnxruntime's defaults": SessionMemory(arena=True, shape_plans=True),
    "koe": SessionMemory(),
    "no arena": SessionMemory(arena=False, shape_plans=False),
}
SENTENCE = ("the keeper climbed the winding stairs each night to light the lamp while his "
            "clever cat watched the ships pass far below in the dark and stormy sea")
WORDS = SENTENCE.split(" ") * 2
REPLY = "A good stretch for a stiff neck is to roll your head gently from side to side."


def say(voice: PiperSynthesizer, text: str) -> float:
    began = time.perf_counter()
    for _ in voice.synthesize(text):
        pass
    return time.perf_counter() - began


def measure(name: str, passes: int) -> dict[str, object]:
    voice = PiperSynthesizer.load(TtsSettings(), CONFIGURATIONS[name])
    say(voice, " ".join(WORDS) + ".")
    after_passes = [rss_mb(os.getpid())]
    for _ in range(passes):
        for length in range(6, len(WORDS), 4):
            say(voice, " ".join(WORDS[:length]) + ".")
        after_passes.append(rss_mb(os.getpid()))
    seconds = statistics.median(say(voice, REPLY) for _ in range(6))
    return {"rss_mb": after_passes, "reply_seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--only", choices=CONFIGURATIONS, help="measure this one, print JSON")
    args = parser.parse_args()
    if args.only:
        print(json.dumps(measure(args.only, args.passes)))
        return
    results = {}
    for name in CONFIGURATIONS:
        done = subprocess.run([sys.executable, __file__, "--only", name,
                               "--passes", str(args.passes)],
                              capture_output=True, text=True, check=True)
        results[name] = json.loads(done.stdout)
    koe = results["koe"]
    print(f"{'':24} {'RSS after the longest, then each pass (MB)':44} growth   reply  vs koe")
    for name, figures in results.items():
        rss = figures["rss_mb"]
        print(f"{name:24} {' -> '.join(f'{r:.0f}' for r in rss):44} {rss[-1] - rss[0]:+5.0f} MB "
              f"{figures['reply_seconds'] * 1000:5.0f} ms "
              f"{figures['reply_seconds'] / koe['reply_seconds']:5.2f}x")


if __name__ == "__main__":
    main()
