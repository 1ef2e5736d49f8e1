#!/usr/bin/env python3
"""Transcription speed and accuracy, koe against plain faster-whisper, in one run.

    python3 scripts/bench_transcribe.py [--minutes 5] [--repeats 3]

Prints, on a long recording made by joining the shared speech clips (at least --minutes):
wall time and speed ("x real time") of koe's `transcribe_file` (default settings), of plain
faster-whisper's batched pipeline on identical settings, and of a plain sequential beam-5 call;
WER of each; WER on the shared clips one by one; and the time from starting
`koe transcribe CLIP -o -` in a fresh process to its first byte of output.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from koe.config.schema import Settings, TranscribeSettings
from koe.voice.audio.files import SAMPLE_RATE, decode_file, to_int16
from koe.voice.stt.speech_set import SpeechClip, speech_clips, speech_missing
from koe.voice.stt.transcriber import Transcriber
from koe.voice.stt.wer import word_error_rate
from koe.voice.transcribe.job import transcribe_file
from koe.voice.transcribe.progress import QuietReporter


def long_recording(clips: list[SpeechClip], min_seconds: float, gap_seconds: float = 0.6
                   ) -> tuple[np.ndarray, str]:
    """The clips joined with short pauses, repeated to at least `min_seconds`; + its reference."""
    gap = np.zeros(int(gap_seconds * SAMPLE_RATE), dtype=np.float32)
    decoded = [(decode_file(c.path).samples, c.transcript) for c in clips]
    parts: list[np.ndarray] = []
    words: list[str] = []
    total = 0
    while total < min_seconds * SAMPLE_RATE:
        for samples, transcript in decoded:
            parts += [samples, gap]
            words.append(transcript)
            total += len(samples) + len(gap)
    return np.concatenate(parts), " ".join(words)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """16 kHz mono 16-bit WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(to_int16(samples).tobytes())
    return path


def timed(fn: Callable[[], str]) -> tuple[float, str]:
    began = time.perf_counter()
    text = fn()
    return time.perf_counter() - began, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    clips = speech_clips()
    if not clips:
        sys.exit(speech_missing())
    settings = Settings()
    tx = settings.transcribe
    transcriber = Transcriber.load(settings.stt)
    model = transcriber.model
    from faster_whisper import BatchedInferencePipeline

    plain_batched = BatchedInferencePipeline(model)
    same = dict(language="en", beam_size=settings.stt.beam_size, vad_filter=True,
                condition_on_previous_text=False,
                no_speech_threshold=settings.stt.guards.no_speech_threshold,
                log_prob_threshold=settings.stt.guards.logprob_threshold)

    with tempfile.TemporaryDirectory() as tmp:
        samples, reference = long_recording(clips, args.minutes * 60)
        long_file = write_wav(Path(tmp) / "long.wav", samples)
        seconds = len(samples) / SAMPLE_RATE
        print(f"long recording: {seconds:.0f} s from {len(clips)} shared clips, "
              f"model {transcriber.resolved.requested} ({settings.stt.compute_type}, "
              f"beam {settings.stt.beam_size}, batch {tx.batch_size}, "
              f"chunk {tx.batch_chunk_seconds:.0f} s)\n")

        def koe(settings: TranscribeSettings = tx) -> str:
            result = transcribe_file(long_file, transcriber, settings, QuietReporter())
            assert result.ok, result.error
            return result.transcript.text

        no_repair = tx.model_copy(update={"repair_skipped": False})

        def fw_batched() -> str:
            segments, _ = plain_batched.transcribe(
                str(long_file), batch_size=tx.batch_size,
                chunk_length=round(tx.batch_chunk_seconds), without_timestamps=False, **same)
            return " ".join(s.text.strip() for s in segments)

        def fw_sequential() -> str:
            segments, _ = model.transcribe(str(long_file), **same)
            return " ".join(s.text.strip() for s in segments)

        runs = {"koe (default)": koe,
                "koe without the repair pass": lambda: koe(no_repair),
                "faster-whisper batched, same settings": fw_batched,
                "faster-whisper sequential beam 5": fw_sequential}
        walls: dict[str, list[float]] = {name: [] for name in runs}
        texts: dict[str, str] = {}
        fw_batched()  # warm-up: first-call allocations are nobody's cost
        for _ in range(args.repeats):  # interleaved, so machine noise falls on all alike
            for name, fn in runs.items():
                wall, texts[name] = timed(fn)
                walls[name].append(wall)

    print(f"{'':40s} {'wall s':>8s} {'x real time':>12s} {'WER long':>9s}")
    for name in runs:
        wall = statistics.median(walls[name])
        wer = word_error_rate([(reference, texts[name])])
        print(f"{name:40s} {wall:8.2f} {seconds / wall:12.1f} {wer:9.2%}")
    koe_wall = statistics.median(walls["koe (default)"])
    plain = statistics.median(walls["faster-whisper batched, same settings"])
    print(f"\nkoe wall / plain batched wall: {koe_wall / plain:.3f} (repair pass on); "
          f"{statistics.median(walls['koe without the repair pass']) / plain:.3f} (off)")
    print(f"koe speed / sequential speed:  "
          f"{statistics.median(walls['faster-whisper sequential beam 5']) / koe_wall:.2f}x")

    shared_wer(clips, transcriber, model, same)
    first_output(clips, args.repeats)


def shared_wer(clips: list[SpeechClip], transcriber: Transcriber, model, same: dict) -> None:
    koe_pairs, seq_pairs = [], []
    for clip in clips:
        audio = decode_file(clip.path).samples
        run = transcriber.transcribe(audio)
        koe_pairs.append((clip.transcript, " ".join(s.text for s in run.segments)))
        segments, _ = model.transcribe(audio, **same)
        seq_pairs.append((clip.transcript, " ".join(s.text for s in segments)))
    print(f"\nWER on the {len(clips)} shared clips: koe {word_error_rate(koe_pairs):.2%}, "
          f"plain sequential beam 5 {word_error_rate(seq_pairs):.2%}")


def first_output(clips: list[SpeechClip], repeats: int) -> None:
    clip = next((c for c in clips if c.path.name == "jfk.flac"), clips[0])
    seconds = decode_file(clip.path).seconds
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "koe.voice.cli", "transcribe",
                                 str(clip.path), "-o", "-"], stdout=subprocess.PIPE)
        proc.stdout.read(1)
        times.append(time.perf_counter() - began)
        proc.communicate()
    print(f"first output of `koe transcribe {clip.path.name} -o -` ({seconds:.0f} s clip, "
          f"cold process): median {statistics.median(times):.2f} s, "
          f"min {min(times):.2f} s over {repeats} runs")


if __name__ == "__main__":
    main()
