#!/usr/bin/env python3
"""Voice-to-voice latency of `koe run`, against a naive pipeline, in one run.

    python3 scripts/bench_latency.py [--conversations 5] [--pause 9] [--with-echo]

Each conversation is a recording of spoken questions (the packaged Piper voice, with pauses
long enough for the answers) played through file mode, exactly as `koe run --input` does,
with the embedded defaults (Whisper tiny.en, Qwen2.5-Coder-1.5B on llama.cpp, Piper) and a
memory store holding a few weeks of facts. The turns mix first questions of a conversation,
follow-ups, and questions that need memories not quoted before.

Latency is read off the files: from the end of each question's voice in the input to the
first sound of the reply in the output. The same conversations also run through a naive
pipeline (endpoint after 700 ms of silence, the whole transcript, the whole reply, the whole
synthesis, then play), interleaved with koe's, one conversation at a time, on one shared
server, each run on a fresh copy of the same memory store. Also printed: where koe's time goes
(endpoint, transcript, first token, first audio, from each turn's report). `--with-echo` adds
koe full duplex (config 'echo'): its reply comes back into the input (ECHO_ROOM) and the echo
canceller and barge-in listener run on every chunk, as in `koe run` on a speaker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from koe.config.schema import ListenSettings, MemorySettings, Settings
from koe.memory.store import MemoryStore
from koe.voice.assistant.loop import Assistant
from koe.voice.assistant.parts import Parts
from koe.voice.assistant.report import TurnReport
from koe.voice.audio.echo.canceller import open_canceller
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.room import EchoRoom
from koe.voice.audio.filemode import FileMicrophone, FileSpeaker
from koe.voice.audio.files import SAMPLE_RATE, decode_file
from koe.voice.audio.wav import write_wav
from koe.voice.llm.provider import LlmProvider
from koe.voice.llm.server import LocalServer
from koe.voice.tts.script import Line, SaidLine, speak_script
from koe.voice.tts.splitter import SentenceSplitter
from koe.voice.tts.synthesizer import PiperSynthesizer

DAY = 86400.0
ECHO_ROOM = (100.0, 0.5)  # delay (ms) and gain of koe's voice back into the input: the soak's
FACTS = [  # (days ago, what the user said)
    (45, "My brother Kenji lives in Osaka and works as a chef."),
    (40, "My dentist is Doctor Alvarez, her practice is on Elm Street."),
    (33, "I keep the spare house key in the blue flower pot by the door."),
    (30, "My daughter Mia is allergic to peanuts."),
    (26, "Our wifi password is written on the back of the router."),
    (21, "I parked the camper van at my uncle's farm for the winter."),
    (18, "My favourite tea is a smoky lapsang souchong."),
    (14, "The plumber, Mister Novak, is coming on Friday at nine."),
    (9, "Mia's school play is on the twentieth of December."),
    (6, "I want to learn to play the cello next year."),
    (3, "My passport expires in April, I need to renew it."),
    (1, "I lent my ladder to the neighbour, Mrs. Patel."),
]
# Five conversations of four turns: the first turn of each, follow-ups, and memory questions.
CONVERSATIONS = [
    ["Where does my brother Kenji live?", "What does he do for a living?",
     "Give me a quick tip for sleeping better.", "Who did I lend my ladder to?"],
    ["When is Mia's school play?", "And what is she allergic to?",
     "What's a good name for a goldfish?", "Where is the spare house key?"],
    ["What is my favourite tea?", "How long should I steep it?",
     "When is the plumber coming?", "What's the plumber's name?"],
    ["Who is my dentist?", "Where is her practice?",
     "What instrument did I say I want to learn?", "Tell me a fun fact about octopuses."],
    ["When does my passport expire?", "Where did I park the camper van?",
     "What is the capital of Canada?", "Where is the wifi password?"],
]


@dataclass
class Turn:
    config: str
    conversation: int
    index: int
    latency: float | None
    report: TurnReport | None


def naive(settings: Settings) -> Settings:
    listen = ListenSettings(silence_seconds=0.7, speculate_seconds=0.0)
    return settings.model_copy(update={"listen": listen})


class WholeReply:
    """The naive pipeline's splitter: the same speakable text, all of it once it is complete."""

    def __init__(self) -> None:
        self.splitter = SentenceSplitter()
        self.pieces: list[str] = []

    def feed(self, delta: str) -> list[str]:
        self.pieces += self.splitter.feed(delta)
        return []

    def flush(self) -> list[str]:
        text = " ".join(self.pieces + self.splitter.flush())
        return [text] if text else []


async def run_once(settings: Settings, server: LocalServer, question: Path, reply: Path,
                   config: str) -> list[TurnReport]:
    whole = config == "naive"
    # Only the echo config plays into a far end: the others run exactly as before it existed.
    far = FarEnd() if config == "echo" else None
    clean = open_canceller(far).near if far is not None else None
    room = EchoRoom(far, *ECHO_ROOM) if far is not None else None
    parts = await Parts.load(settings, provider=LlmProvider(settings.llm, server=server))
    try:
        assistant = Assistant(settings, parts.hearing, parts.conversation, parts.synthesizer,
                              WholeReply if whole else SentenceSplitter,
                              read_ahead=config in ("koe", "echo"), clean=clean)
        async with (FileSpeaker(reply, far=far) as speaker,
                    FileMicrophone(question, room=room) as microphone):
            return await assistant.run(microphone, speaker)
    finally:
        await parts.close(summarize=False)


def first_sound(path: Path, after: float, level: int = 300) -> float | None:
    samples = decode_file(path).samples
    start = int(after * SAMPLE_RATE)
    loud = (abs(samples[start:]) * 32768 > level).nonzero()[0]
    return (start + int(loud[0])) / SAMPLE_RATE if loud.size else None


def seed_memory(path: Path) -> None:
    now = time.time()
    with MemoryStore.open(MemorySettings(path=str(path))) as store:
        for i, (days, text) in enumerate(FACTS):
            store.add_turn("user", text, f"past-{i}", at=now - days * DAY)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, values: list[float]) -> str:
    p50, p95 = statistics.median(values), percentile(values, 0.95)
    return (f"{name:>7}: p50 {p50:.2f} s  p95 {p95:.2f} s  mean {statistics.mean(values):.2f} s"
            f"  ({len(values)} turns)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=len(CONVERSATIONS))
    parser.add_argument("--pause", type=float, default=12.0,
                        help="seconds of silence after each question (room for the answer)")
    parser.add_argument("--fresh", type=int, default=3,
                        help="runs of a freshly started `koe run --input` with one question")
    parser.add_argument("--without-read-ahead", action="store_true",
                        help="also run koe without read-ahead (config 'no-read'), interleaved")
    parser.add_argument("--with-echo", action="store_true",
                        help="also run koe full duplex, its voice echoed back (config 'echo')")
    args = parser.parse_args()
    configs = (["koe", "naive"] + (["no-read"] if args.without_read_ahead else [])
               + (["echo"] if args.with_echo else []))

    work = Path(tempfile.mkdtemp(prefix="koe-bench-latency-"))
    base = Settings()
    voice = PiperSynthesizer.load(base.tts)
    seeded = work / "seeded-store"
    seed_memory(seeded)
    turns: list[Turn] = []
    with LocalServer(base.llm.local, log_path=work / "llm.log") as server:
        for c, questions in enumerate(CONVERSATIONS[: args.conversations]):
            pcm, said = speak_script(voice, [Line(q, args.pause) for q in questions])
            question = write_wav(work / f"q{c}.wav", pcm, SAMPLE_RATE)
            order = configs if c % 2 == 0 else configs[::-1]
            for config in order:
                store = work / f"store-{c}-{config}"
                shutil.copytree(seeded, store)
                settings = base.model_copy(update={"memory": MemorySettings(path=str(store))})
                if config == "naive":
                    settings = naive(settings)
                reply = work / f"r{c}-{config}.wav"
                reports = asyncio.run(run_once(settings, server, question, reply, config))
                turns += measure(config, c, said, reply, reports)
    report(turns)
    fresh_starts(work, voice, seeded, args.fresh)
    print(f"\nfiles: {work}")


def fresh_starts(work: Path, voice: PiperSynthesizer, seeded: Path, runs: int) -> None:
    """The first question to a koe just started (`koe run --input`, its own process and
    server): from the end of speech to the first sound of the answer, which needs a memory."""
    pcm, said = speak_script(voice, [Line("Who is my dentist?", 10.0)])
    question = write_wav(work / "fresh.wav", pcm, SAMPLE_RATE)
    latencies = []
    for run in range(runs):
        store = work / f"store-fresh-{run}"
        shutil.copytree(seeded, store)
        reply = work / f"fresh-{run}.wav"
        subprocess.run([sys.executable, "-m", "koe.voice", "run", "--input", str(question),
                        "--output", str(reply)], check=True, capture_output=True,
                       env={**os.environ, "KOE_MEMORY_PATH": str(store)})
        sound = first_sound(reply, said[0].end)
        if sound is not None:
            latencies.append(sound - said[0].end)
    print(f"\nfreshly started `koe run --input`, first question (needs a memory), {runs} runs:")
    print("  " + ", ".join(f"{x:.2f} s" for x in latencies))


def measure(config: str, conversation: int, said: list[SaidLine], reply: Path,
            reports: list[TurnReport]) -> list[Turn]:
    turns = []
    for i, line in enumerate(said):
        sound = first_sound(reply, line.end)
        latency = sound - line.end if sound is not None else None
        match = min(reports, key=lambda r: abs((r.speech_end or 0) - line.end), default=None)
        if match is not None and abs((match.speech_end or 0) - line.end) > 0.5:
            match = None
        turns.append(Turn(config, conversation, i, latency, match))
    return turns


def report(turns: list[Turn]) -> None:
    print("per turn (conversation.turn, config, latency, transcript):")
    for t in turns:
        text = t.report.transcript if t.report else "(no turn)"
        latency = f"{t.latency:.2f} s" if t.latency is not None else "missed"
        memories = len(t.report.memories) if t.report else 0
        tokens = (f"{t.report.cached_tokens}/{t.report.prompt_tokens} cached"
                  if t.report and t.report.prompt_tokens else "")
        print(f"  {t.conversation}.{t.index} {t.config:>7} {latency:>8}  {memories} mem"
              f"  {tokens:>15}  {text}")
    latencies = {config: [t.latency for t in turns if t.config == config and t.latency is not None]
                 for config in dict.fromkeys(t.config for t in turns)}
    print("\nvoice to voice (end of question -> first sound of the reply):")
    for config, values in latencies.items():
        print(summary(config, values))
    koe, base = latencies["koe"], latencies["naive"]
    print(f" ratio: naive p50 / koe p50 = {statistics.median(base) / statistics.median(koe):.2f}x")
    for config in latencies:
        if config != "naive":
            stages(config, (t.report for t in turns if t.config == config and t.report))
    missed = sum(t.latency is None for t in turns)
    cut = {config: sum(bool(t.report and t.report.interrupted) for t in turns if t.config == config)
           for config in latencies}
    print(f"missed turns: {missed}; replies cut by a barge-in (a false one, or the next "
          "question asked before the reply ended): "
          + ", ".join(f"{config} {n}" for config, n in cut.items()))


def stages(config: str, reports: Iterable[TurnReport]) -> None:
    rows = {"endpoint": [], "transcript": [], "first token": [], "first audio": []}
    for r in reports:
        end = r.speech_end or 0.0
        for name, at in (("endpoint", r.endpoint), ("transcript", r.transcript_ready),
                         ("first token", r.first_token), ("first audio", r.first_audio)):
            if at is not None:
                rows[name].append(at - end)
    print(f"\n{config}: stages, seconds after the end of speech (p50 / p95), from the reports:")
    for name, values in rows.items():
        if values:
            print(f"  {name:>12}: {statistics.median(values):.2f} / {percentile(values, 0.95):.2f}")


if __name__ == "__main__":
    main()
