#!/usr/bin/env python3
"""Wake word: the packaged microWakeWord models against transcript matching, in one run.

    pip install pymicro-wakeword==2.5.0 pymicro-features   # not a koe dependency
    python3 scripts/bench_wake.py [--speeds 0.8,1.0,1.25] [--noise-db -60]

Clips: Piper (the packaged voice) says each wake phrase in four sentences at each speed, and
fifteen other sentences (near misses among them: "Hey Travis", "Alexander called", "Hey Joe");
half a second of quiet either side, steady noise under all. The shared speech set (real voices)
adds a minute of speech with no wake phrase in it.

For each phrase, a hit is a clip with that phrase where it is found; a false alarm is a clip
without it (other sentences, other phrases, real speech) where it is. microWakeWord runs its
own model on every 10 ms of audio, its state fresh for each clip; transcript matching is
koe's WakeGate on what the packaged Whisper (tiny.en, beam 5, as `koe run`) wrote. CPU is
process time (all threads) per second of audio.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from koe.config.schema import RunSettings, SttSettings, TtsSettings
from koe.voice.audio.files import SAMPLE_RATE, decode_file, to_int16
from koe.voice.audio.resample import resample
from koe.voice.stt.speech_set import speech_clips
from koe.voice.stt.transcriber import Transcriber
from koe.voice.tts.synthesizer import PiperSynthesizer
from koe.voice.turns.thresholds import PRESET_SILENCE_SECONDS
from koe.voice.turns.wake import WakeGate

# Phrase -> the packaged microWakeWord model for it (None: there is none).
PHRASES: dict[str, str | None] = {
    "okay nabu": "okay_nabu",
    "hey jarvis": "hey_jarvis",
    "hey mycroft": "hey_mycroft",
    "alexa": "alexa",
    "hey koe": None,
}
CARRIERS = ("{}.", "{}, what time is it?", "{}, turn off the lights.",
            "{}, what's the weather like tomorrow?")
OTHERS = (
    "OK, go on.", "He cooked dinner.", "Hey Joe, what time is it?", "What time is it?",
    "Turn off the lights in the kitchen.", "Hey Travis, are you coming tonight?",
    "Okay, no problem, I'll do it.", "Alexander called about the meeting.",
    "Hey, my cross-country race is on Sunday.", "Hey Kate, come here.",
    "I bought a new coat yesterday.", "Could you pass me the salt, please?",
    "The weather tomorrow looks sunny and warm.", "Let's go to the park after lunch.",
    "Did you hear the news about the election?",
)


@dataclass
class Clip:
    name: str
    pcm: np.ndarray  # int16 at 16 kHz
    phrase: str | None  # the wake phrase it says, if any

    @property
    def seconds(self) -> float:
        return len(self.pcm) / SAMPLE_RATE

    @property
    def speech_end(self) -> int:
        """The sample after the last loud one: where the voice stops."""
        loud = np.flatnonzero(np.abs(self.pcm.astype(np.int32)) > 300)
        return int(loud[-1]) + 1 if loud.size else 0


def make_clips(speeds: list[float], noise_db: float) -> list[Clip]:
    rng = np.random.default_rng(1)
    pad = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)

    def clip(name: str, audio: np.ndarray, phrase: str | None) -> Clip:
        audio = np.concatenate([pad, audio, pad])
        audio = audio + rng.standard_normal(audio.size).astype(np.float32) * 10 ** (noise_db / 20)
        return Clip(name, to_int16(audio), phrase)

    clips = []
    for speed in speeds:
        voice = PiperSynthesizer.load(TtsSettings(speed=speed))
        for phrase in PHRASES:
            for carrier in CARRIERS:
                text = carrier.format(phrase.title())
                clips.append(clip(f"{text} @{speed}", speak(voice, text), phrase))
        for text in OTHERS:
            clips.append(clip(f"{text} @{speed}", speak(voice, text), None))
    for real in speech_clips():
        clips.append(Clip(real.path.name, to_int16(decode_file(real.path).samples), None))
    return clips


def speak(voice: PiperSynthesizer, text: str) -> np.ndarray:
    spoken = voice.speak(text)
    return resample(spoken.pcm.astype(np.float32) / 32768, spoken.sample_rate, SAMPLE_RATE)


def cpu_seconds(work: Callable[[], object]) -> tuple[object, float]:
    start = time.process_time()
    result = work()
    return result, time.process_time() - start


def micro_detections(model_name: str, clips: list[Clip]) -> tuple[list[int | None], float]:
    """Where the model first fired in each clip (a sample; None: never), and its CPU seconds
    over all of them."""
    from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

    model = MicroWakeWord.from_builtin(Model(model_name))
    features = MicroWakeWordFeatures()
    fired: list[int | None] = []
    cpu = 0.0
    for clip in clips:
        model.reset()  # reloads the interpreter: not counted
        features.reset()

        def run(clip: Clip = clip) -> int | None:
            first = None
            for n, frame in enumerate(features.process_streaming(clip.pcm.tobytes())):
                if model.process_streaming(frame) and first is None:  # the whole clip is heard
                    first = (n + 1) * 160  # a feature window every 10 ms
            return first

        first, seconds = cpu_seconds(run)
        fired.append(first)  # type: ignore[arg-type]
        cpu += seconds
    model.close()
    return fired, cpu


def transcripts(clips: list[Clip]) -> tuple[list[str], float, float]:
    """Whisper's text for each clip, its CPU seconds and wall seconds over all of them."""
    transcriber = Transcriber.load(SttSettings())
    transcriber.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32))  # warm up
    texts: list[str] = []
    cpu = wall = 0.0
    for clip in clips:
        audio = clip.pcm.astype(np.float32) / 32768
        start = time.perf_counter()
        text, seconds = cpu_seconds(
            lambda audio=audio: " ".join(s.text for s in transcriber.transcribe(audio).segments))
        wall += time.perf_counter() - start
        texts.append(str(text))
        cpu += seconds
    return texts, cpu, wall


def score(phrase: str, fired: list[bool], clips: list[Clip]) -> tuple[int, int, int, int]:
    """(hits, clips with the phrase, false alarms, clips without it)."""
    fired = [bool(f) for f in fired]
    hits = sum(f for f, c in zip(fired, clips, strict=True) if c.phrase == phrase)
    said = sum(c.phrase == phrase for c in clips)
    false = sum(f for f, c in zip(fired, clips, strict=True) if c.phrase != phrase)
    return hits, said, false, len(clips) - said


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeds", default="0.8,1.0,1.25")
    parser.add_argument("--noise-db", type=float, default=-60.0)
    args = parser.parse_args()
    try:
        import pymicro_wakeword  # noqa: F401
    except ImportError:
        print("pymicro-wakeword is not installed: pip install pymicro-wakeword==2.5.0 "
              "pymicro-features", file=sys.stderr)
        return 1

    clips = make_clips([float(s) for s in args.speeds.split(",")], args.noise_db)
    audio_seconds = sum(c.seconds for c in clips)
    print(f"{len(clips)} clips, {audio_seconds:.0f} s of audio "
          f"({sum(c.phrase is not None for c in clips)} with a wake phrase)\n")

    texts, whisper_cpu, whisper_wall = transcripts(clips)
    print(f"{'phrase':<12} {'method':<22} {'hits':>7} {'false alarms':>13} "
          f"{'CPU s per audio s':>18}")
    match_cpu = 0.0
    wrong: list[str] = []
    delays: list[str] = []
    for phrase, model_name in PHRASES.items():
        if model_name is not None:
            firsts, cpu = micro_detections(model_name, clips)
            fired = [f is not None for f in firsts]
            hits, said, false, others = score(phrase, fired, clips)
            alone = [(f - c.speech_end) / SAMPLE_RATE for f, c in zip(firsts, clips, strict=True)
                     if c.phrase == phrase and f is not None and c.name.startswith(
                         CARRIERS[0].format(phrase.title()))]
            if alone:
                delays.append(f"{model_name}: {np.median(alone) * 1000:+.0f} ms")
            print(f"{phrase:<12} {'microWakeWord':<22} {hits:>3}/{said:<3} {false:>6}/{others:<6} "
                  f"{cpu / audio_seconds:>18.4f}")
            wrong += [f"{model_name} fired on {c.name!r}"
                      for f, c in zip(fired, clips, strict=True) if f and c.phrase != phrase]
            wrong += [f"{model_name} missed {c.name!r}"
                      for f, c in zip(fired, clips, strict=True) if not f and c.phrase == phrase]
        else:
            print(f"{phrase:<12} {'microWakeWord':<22} {'no packaged model for this phrase':>40}")
        gate = WakeGate(RunSettings(wake_phrase=phrase))
        admitted, cpu = cpu_seconds(
            lambda gate=gate: [gate.admit(t, now=0.0).reason == "wake_phrase" for t in texts])
        match_cpu += cpu
        hits, said, false, others = score(phrase, list(admitted), clips)  # type: ignore[arg-type]
        print(f"{'':<12} {'Whisper + WakeGate':<22} {hits:>3}/{said:<3} {false:>6}/{others:<6} "
              f"{whisper_cpu / audio_seconds:>18.4f}")
    print(f"\nWhisper tiny.en: {whisper_cpu / audio_seconds:.3f} CPU s and "
          f"{whisper_wall / audio_seconds:.3f} wall s per audio s, "
          f"{whisper_wall / len(clips):.2f} wall s per clip (it runs on every utterance anyway "
          f"when koe answers); WakeGate alone: "
          f"{match_cpu / (len(texts) * len(PHRASES)) * 1e6:.0f} us per transcript.")
    print("Phrase alone: detection after the voice stops, median: " + ", ".join(delays)
          + f"; transcript matching needs the endpoint ({PRESET_SILENCE_SECONDS['default']} s of "
          f"silence by default) plus Whisper ({whisper_wall / len(clips):.2f} s a clip).")
    for line in wrong:
        print(f"  {line}")
    for clip, text in zip(clips, texts, strict=True):
        for phrase in PHRASES:
            found = WakeGate(RunSettings(wake_phrase=phrase)).admit(text, 0.0)
            if (found.reason == "wake_phrase") != (clip.phrase == phrase):
                verdict = "missed" if clip.phrase == phrase else f"found {phrase!r} in"
                print(f"  transcript {verdict} {clip.name!r}, heard as {text.strip()!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
