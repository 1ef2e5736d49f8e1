#!/usr/bin/env python3
"""Soak: hundreds of spoken turns with `koe run` on sound devices; nothing may crash, lose a
turn, leak, interrupt itself, or miss being interrupted.

    python3 scripts/soak.py [--turns 200] [--echo 100,0.5] [--record]

The voice loop runs as `koe run` does (embedded defaults, a fresh memory store, the wake
phrase "hey koe", barge-in on, echo cancellation) on the virtual devices of
scripts/virtual-audio.sh, with an echo path from the speaker back into the microphone as in a
room. The soak talks to it through the microphone (Piper's voice, played by PulseAudio),
waiting for each answer like a person would; it asks questions and follow-ups, asks for long
stories and talks over them, and makes remarks to someone else that koe must ignore
(scripts/soak_plan.py).

Printed at the end: turns answered and stored against those expected, crashes, false and
missed barge-ins, how soon koe went quiet when talked over (p50/p95: from the onset of the
user's voice in the microphone to the last sample koe's speaker played, both on the
microphone's clock), answers to remarks not meant for koe, voice-to-voice latency
percentiles, and the resident memory of koe and its language model server over time.
With --record, the microphone, the far end and the canceller's output are written beside the
turns (scripts/soak_tape.py), to replay a false or missed barge-in afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from soak_memory import MemorySample, sample
from soak_plan import Utterance, plan
from soak_tape import Tape

from koe.config.schema import MemorySettings, RunSettings, Settings
from koe.memory.store import MemoryStore
from koe.voice.assistant.events import LoopEvent, StateChanged, TurnDone
from koe.voice.assistant.report import TurnReport, write_report
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.witness import Witness
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.virtual import (
    MICROPHONE_FEED,
    VirtualAudio,
    echo_path,
    inject,
    start_virtual_audio,
)
from koe.voice.tts.script import Line, speak_script
from koe.voice.tts.synthesizer import PiperSynthesizer

if TYPE_CHECKING:
    from koe.voice.assistant.loop import Assistant

WAKE_PHRASE = "hey koe"
WARM_UP_TURNS = 10
SAMPLE_SECONDS = 5.0
GAP_SECONDS = 1.0  # a person's pause before the next question
SLOW_STOP_SECONDS = 0.3  # barge-in's goal: quiet within this of the user's onset
TURN_TIMEOUT = 180.0  # no answer by then: counted as hung, the soak goes on
SCRIPT = Path(__file__).with_name("virtual-audio.sh")


@dataclass
class Interruption:
    at: float  # microphone clock when the user's words were sent to the microphone
    pcm: np.ndarray
    voice_offset: float  # where the voice begins in `pcm`
    stop_latency: float | None = None


@dataclass
class Tally:
    reports: list[TurnReport] = field(default_factory=list)
    expected: int = 0
    hung: int = 0
    unbidden: int = 0  # answers to remarks not meant for koe
    unexpected: int = 0  # turns no one asked for (koe answering its own voice)
    crashes: list[str] = field(default_factory=list)
    interruptions: list[Interruption] = field(default_factory=list)
    missed_barge_ins: int = 0
    stories_over_early: int = 0  # replies that ended before the user could talk over them
    false_barge_ins: int = 0
    memory: list[MemorySample] = field(default_factory=list)


class Soak:
    def __init__(self, settings: Settings, voices: dict[str, tuple[np.ndarray, float]],
                 audio: VirtualAudio, tally: Tally) -> None:
        """`voices`: each text the user says, spoken (16 kHz int16) and where its voice starts."""
        self.settings, self.voices, self.audio, self.tally = settings, voices, audio, tally
        self.turns: asyncio.Queue[TurnReport] = asyncio.Queue()
        self.speaking = asyncio.Event()

    def observe(self, event: LoopEvent) -> None:
        if isinstance(event, TurnDone):
            self.tally.reports.append(event.report)
            self.turns.put_nowait(event.report)
        elif isinstance(event, StateChanged):
            if event.state == "speaking":
                self.speaking.set()
            else:
                self.speaking.clear()

    async def say(self, assistant: Assistant, text: str) -> tuple[float, np.ndarray, float]:
        while not self.turns.empty():  # answers to something no one said
            extra = self.turns.get_nowait()
            self.tally.unexpected += 1
            print(f"  a turn no one asked for: {extra.transcript!r}")
        pcm, voice_offset = self.voices[text]
        at = assistant.now()
        await inject(MICROPHONE_FEED, pcm, self.audio.client_env())
        return at, pcm, voice_offset

    async def next_turn(self) -> TurnReport | None:
        try:
            return await asyncio.wait_for(self.turns.get(), TURN_TIMEOUT)
        except TimeoutError:
            self.tally.hung += 1
            return None

    async def converse(self, assistant: Assistant, witness: Witness,
                       utterances: list[Utterance]) -> None:
        window = self.settings.run.follow_up_seconds
        for number, utterance in enumerate(utterances):
            self.tally.expected += utterance.answers
            if utterance.kind == "ignored":
                await asyncio.sleep(window + 2.0)
                _, pcm, _ = await self.say(assistant, utterance.text)
                try:
                    report = await asyncio.wait_for(self.turns.get(), pcm.size / SAMPLE_RATE + 8)
                    self.tally.unbidden += 1
                    print(f"  answered a remark not meant for it: {report.transcript!r}")
                except TimeoutError:
                    pass
                await asyncio.sleep(2.0)
                continue
            await self.say(assistant, utterance.text)
            if utterance.kind == "story":
                await self.interrupt(assistant, witness, utterance)
            else:
                report = await self.next_turn()
                if report is not None and report.barge_in is not None:
                    self.tally.false_barge_ins += 1
            await asyncio.sleep(GAP_SECONDS)
            if number % 10 == 0:
                print(f"  {len(self.tally.reports)} turns answered, "
                      f"{time.strftime('%H:%M:%S')}", flush=True)

    async def interrupt(self, assistant: Assistant, witness: Witness, utterance: Utterance) -> None:
        try:
            await asyncio.wait_for(self.speaking.wait(), TURN_TIMEOUT)
        except TimeoutError:
            self.tally.hung += 1
            return
        await asyncio.sleep(random.uniform(1.0, 3.0))
        cut = None
        if not self.turns.empty():  # the story was over (or cut short) before the user spoke
            story = self.turns.get_nowait()
            self.tally.stories_over_early += 1
            print(f"  the story ended before the user cut in: {story.spoken!r}")
            self.tally.false_barge_ins += story.barge_in is not None
            await self.say(assistant, utterance.interruption)
        else:
            cut = Interruption(*await self.say(assistant, utterance.interruption))
            self.tally.interruptions.append(cut)
            story = await self.next_turn()
            if story is not None and (story.barge_in is None or story.barge_in < cut.at - 0.2):
                self.tally.missed_barge_ins += story.barge_in is None
                self.tally.false_barge_ins += story.barge_in is not None
        answer = await self.next_turn()
        if answer is not None and answer.barge_in is not None:
            self.tally.false_barge_ins += 1
        if cut is not None:
            cut.stop_latency = witness.went_quiet(cut.pcm, cut.at, cut.voice_offset)
            if cut.stop_latency is not None and cut.stop_latency > SLOW_STOP_SECONDS:
                print(f"  quiet {cut.stop_latency * 1000:.0f} ms after the user's onset "
                      f"(words sent at {cut.at:.2f} s on the microphone's clock)")


async def soak(settings: Settings, audio: VirtualAudio, utterances: list[Utterance],
               voices: dict[str, tuple[np.ndarray, float]], tally: Tally,
               record: Path | None = None) -> None:
    # Imported once the virtual devices exist: PortAudio looks for devices when it loads.
    from koe.voice.assistant.loop import Assistant
    from koe.voice.assistant.parts import Parts
    from koe.voice.audio.devices import rescan
    from koe.voice.audio.echo.canceller import open_canceller
    from koe.voice.audio.microphone import Microphone
    from koe.voice.audio.speaker import Speaker
    from koe.voice.tts.splitter import SentenceSplitter

    rescan()  # PortAudio sees the virtual devices
    far = FarEnd()
    canceller = open_canceller(far, "auto")
    witness = Witness(far, canceller.near)
    tape = Tape(record, far, witness) if record else None
    parts = await Parts.load(settings)
    driver = Soak(settings, voices, audio, tally)
    assistant = Assistant(settings, parts.hearing, parts.conversation, parts.synthesizer,
                          SentenceSplitter, observe=driver.observe, clean=tape or witness)

    async def watch_memory() -> None:
        while True:
            tally.memory.append(sample(os.getpid(), len(tally.reports)))
            await asyncio.sleep(SAMPLE_SECONDS)

    sampler = asyncio.create_task(watch_memory())
    try:
        async with Speaker.from_settings(settings.audio, far=far) as speaker, \
                Microphone.from_settings(settings.audio) as microphone:
            loop = asyncio.create_task(assistant.run(microphone, speaker))
            talk = asyncio.create_task(driver.converse(assistant, witness, utterances))
            done, _ = await asyncio.wait({loop, talk}, return_when=asyncio.FIRST_COMPLETED)
            if loop in done:  # the loop must never end by itself
                tally.crashes.append("".join(traceback.format_exception(loop.exception()))
                                     if loop.exception() else "the loop ended by itself")
                talk.cancel()
            else:
                talk.result()
                loop.cancel()
    finally:
        if sampler.done():  # it failed: say why rather than print no memory figures
            tally.crashes.append("".join(traceback.format_exception(sampler.exception())))
        sampler.cancel()
        if tape is not None:
            tape.close()
        await parts.close(summarize=False)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(tally: Tally, settings: Settings, minutes: float) -> None:
    with MemoryStore.open(settings.memory) as store:
        stored = [r for r in store.records() if r.role in ("user", "assistant")]
    asked = sum(r.role == "user" for r in stored)
    replies = sum(r.role == "assistant" for r in stored)
    answered = [r for r in tally.reports if not r.error]
    lost = max(0, len(tally.reports) - asked) + max(0, sum(bool(r.reply) for r in answered)
                                                   - replies)
    print(f"ran {minutes:.1f} min; {len(tally.reports)} turns answered of {tally.expected} "
          f"expected; {tally.hung} waits for an answer timed out; "
          f"{sum(bool(r.error) for r in tally.reports)} turns said an error")
    print(f"memory: {asked} questions and {replies} replies stored; turns lost: {lost}")
    print(f"crashes: {len(tally.crashes)}; remarks not meant for koe answered: {tally.unbidden}; "
          f"turns no one asked for: {tally.unexpected}")
    stops = [c.stop_latency for c in tally.interruptions if c.stop_latency is not None]
    print(f"barge-in: {len(tally.interruptions)} interruptions, {tally.missed_barge_ins} missed, "
          f"{tally.false_barge_ins} false (koe's own voice or no one speaking); "
          f"{tally.stories_over_early} stories over before the user cut in")
    if stops:
        print(f"  quiet after the user's onset: p50 {percentile(stops, 0.5) * 1000:.0f} ms, "
              f"p95 {percentile(stops, 0.95) * 1000:.0f} ms, max {max(stops) * 1000:.0f} ms "
              f"({len(stops)} measured)")
    latencies = [r.latency for r in answered if r.latency is not None and not r.barge_in]
    if latencies:
        print(f"voice to voice: p50 {percentile(latencies, 0.5):.2f} s, "
              f"p95 {percentile(latencies, 0.95):.2f} s, mean {statistics.mean(latencies):.2f} s")
    warm = [m for m in tally.memory if m.turns >= WARM_UP_TURNS] or tally.memory
    if warm:
        first, last = warm[0], warm[-1]
        print(f"RSS after {WARM_UP_TURNS} turns and at the end: koe {first.koe_mb:.0f} -> "
              f"{last.koe_mb:.0f} MB ({last.koe_mb - first.koe_mb:+.0f}), language model server "
              f"{first.server_mb:.0f} -> {last.server_mb:.0f} MB "
              f"({last.server_mb - first.server_mb:+.0f}); whole assistant at the peak "
              f"{max(m.koe_mb + m.server_mb for m in tally.memory):.0f} MB")
        rows = tally.memory[:: max(1, len(tally.memory) // 12)]
        for m in rows if rows[-1] is last else [*rows, last]:
            print(f"  after {m.turns:3d} turns: koe {m.koe_mb:.0f} MB, server "
                  f"{m.server_mb:.0f} MB")
    for crash in tally.crashes:
        print(crash)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--echo", default="100,0.5", metavar="DELAY_MS,GAIN")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--record", action="store_true",
                        help="write mic.wav, played.wav and cleaned.wav beside turns.json")
    args = parser.parse_args()
    random.seed(args.seed)
    delay_ms, gain = args.echo.split(",")

    work = Path(tempfile.mkdtemp(prefix="koe-soak-"))
    settings = Settings(memory=MemorySettings(path=str(work / "store")),
                        run=RunSettings(wake_phrase=WAKE_PHRASE))
    utterances = plan(args.turns, WAKE_PHRASE)
    print(f"{len(utterances)} utterances, {sum(u.answers for u in utterances)} answers expected; "
          f"echo {delay_ms} ms at {gain}; files in {work}", flush=True)
    voice = PiperSynthesizer.load(settings.tts)
    voices = {}
    for text in {t for u in utterances for t in (u.text, u.interruption) if t}:
        pcm, said = speak_script(voice, [Line(text, 0.0)], lead_in=0.0)
        voices[text] = (pcm, said[0].start)
    tally = Tally()
    began = time.monotonic()
    with start_virtual_audio(work / "pa", SCRIPT) as audio:
        os.environ.update(audio.env)
        with echo_path(audio, int(delay_ms), float(gain)):
            asyncio.run(soak(settings, audio, utterances, voices, tally,
                             work if args.record else None))
    with open(work / "turns.json", "w", encoding="utf-8") as out:
        write_report(tally.reports, out)
    summary(tally, settings, (time.monotonic() - began) / 60)


if __name__ == "__main__":
    main()
