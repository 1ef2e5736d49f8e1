#!/usr/bin/env python3
"""Replay a recorded soak's barge-ins: the canceller's recorded output through koe's barge-in
listener, without and with the leak check (voice/audio/echo/leak.py), turn by turn.

    python3 scripts/soak.py --turns 30 --record      # writes mic/played/cleaned.wav
    python3 scripts/replay_barge_in.py /tmp/koe-soak-XXXX [/tmp/koe-soak-YYYY ...]
    python3 scripts/replay_barge_in.py --also 0.09 /tmp/koe-soak-XXXX   # another threshold

For each reply: where the live loop decided the user was talking over koe, and where the
replay decides, both ways. A live barge-in was real when the next turn is one of the soak's
interruptions (scripts/soak_plan.py); any other is false (koe's own echo). Printed: false
barge-ins and real ones heard, both ways, how soon after the user's onset (as the live loop
found it) the listener decides with the check, and what the check costs per 30 ms chunk.
The replay hears exactly what the live canceller left, so it judges the check, not AEC3;
after a live stop the recording holds no more of the reply, so each reply is judged up to
where it stopped live. A reply that ended before the user cut in is judged to its end, so
the user's words just after it count as false: read those by hand. `--also SECONDS` replays
with the check at another `listen.barge_in_seconds` too: its false barge-ins, and how much
sooner (or later) than the default it decides on the real ones.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from soak_plan import INTERRUPTIONS

from koe.config.schema import ListenSettings
from koe.voice.assistant.interruption import SETTLE_SECONDS, BargeInListener
from koe.voice.audio.chunks import FRAME_SAMPLES, AudioChunk
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.leak import LeakDetector
from koe.voice.audio.files import SAMPLE_RATE, decode_file
from koe.voice.stt.wer import normalise

QUIET_SECONDS = 0.5  # the speaker silent this long: the reply is over


@dataclass
class Other:
    """The replay with the check at another barge-in threshold."""

    false: int = 0
    heard: int = 0
    sooner: list[float] = field(default_factory=list)  # than the default, on real barge-ins


@dataclass
class Tally:
    false_live: int = 0
    false_replayed: list[int] = field(default_factory=lambda: [0, 0])  # without, with the check
    real_live: int = 0
    real_heard: list[int] = field(default_factory=lambda: [0, 0])
    later: list[float] = field(default_factory=list)  # with the check: live onset -> decision
    chunks: int = 0
    seconds: float = 0.0
    others: dict[float, Other] = field(default_factory=dict)  # by barge_in_seconds (--also)


def load(folder: Path, name: str) -> np.ndarray:
    return np.round(decode_file(folder / f"{name}.wav").samples * 32768).astype(np.int16)


def is_interruption(transcript: str) -> bool:
    words = set(normalise(transcript))
    return any(len(words & set(normalise(said))) >= len(set(normalise(said))) / 2
               for said in INTERRUPTIONS)


def marks(mic: np.ndarray, played: np.ndarray, cleaned: np.ndarray, tally: Tally
          ) -> np.ndarray:
    """The leak check's verdict on every chunk, run as live (the far end written as played)."""
    far = FarEnd()
    detector = LeakDetector(far)
    verdicts = np.zeros(len(mic) // FRAME_SAMPLES, dtype=bool)
    began = time.process_time()
    for index in range(len(verdicts)):
        at = index * FRAME_SAMPLES
        span = slice(at, at + FRAME_SAMPLES)
        far.write(played[span], at)
        verdicts[index] = detector.leaked(mic[span], cleaned[span], at)
    tally.seconds += time.process_time() - began
    tally.chunks += len(verdicts)
    return verdicts


def decide(cleaned: np.ndarray, echo: np.ndarray | None, start: int, end: int,
           listen: ListenSettings | None = None) -> float | None:
    """Where the barge-in listener decides over [start, end), in seconds, if it does."""
    listener = BargeInListener(listen or ListenSettings())
    listener.echo_heard = SETTLE_SECONDS  # as deep into a session as the soak's replies
    first = start // FRAME_SAMPLES
    listener.start(first * FRAME_SAMPLES)
    for index in range(first, min(end // FRAME_SAMPLES, len(cleaned) // FRAME_SAMPLES)):
        at = index * FRAME_SAMPLES
        chunk = AudioChunk(cleaned[at:at + FRAME_SAMPLES], at,
                           bool(echo is not None and echo[index]))
        if (hit := listener.feed(chunk, True)) is not None:
            return hit.sample / SAMPLE_RATE
    return None


def reply_end(played: np.ndarray, start: int) -> int:
    """Where the speaker fell silent for QUIET_SECONDS after `start`."""
    quiet = round(QUIET_SECONDS * SAMPLE_RATE)
    loud = np.flatnonzero(np.abs(played[start:].astype(np.int32)) > 300)
    gaps = np.flatnonzero(np.diff(loud) > quiet)
    return start + int(loud[gaps[0]] if gaps.size else (loud[-1] if loud.size else 0)) + quiet


def replay(folder: Path, tally: Tally) -> None:
    mic, played, cleaned = (load(folder, name) for name in ("mic", "played", "cleaned"))
    turns = json.loads((folder / "turns.json").read_text(encoding="utf-8"))["turns"]
    echo = marks(mic, played, cleaned, tally)
    for turn, following in zip(turns, [*turns[1:], None], strict=True):
        if turn["first_audio"] is None:
            continue
        start = round(turn["first_audio"] * SAMPLE_RATE)
        live = turn["barge_in"] is not None
        end = (round((turn["stopped"] + 0.05) * SAMPLE_RATE) if live
               else reply_end(played, start))
        real = live and following is not None and is_interruption(following["transcript"])
        if live and real:
            tally.real_live += 1
            end += SAMPLE_RATE  # heard later than live is still heard
        elif live:
            tally.false_live += 1
        hits = [decide(cleaned, marked, start, end) for marked in (None, echo)]
        for way, hit in enumerate(hits):
            if hit is not None and real:
                tally.real_heard[way] += 1
            elif hit is not None:
                tally.false_replayed[way] += 1
        if real and hits[1] is not None:
            tally.later.append(hits[1] - turn["barge_in"])
        for threshold, other in tally.others.items():
            hit = decide(cleaned, echo, start, end, ListenSettings(barge_in_seconds=threshold))
            other.false += hit is not None and not real
            other.heard += hit is not None and real
            if real and hit is not None and hits[1] is not None:
                other.sooner.append(hits[1] - hit)
        if live or any(hit is not None for hit in hits):
            seen = ", ".join("-" if hit is None else f"{hit:.2f} s" for hit in hits)
            print(f"  {folder.name} {turn['transcript'][:36]!r}: live "
                  f"{'real' if real else 'false'} at {turn['barge_in'] or 0:.2f} s; "
                  f"replayed without / with the check: {seen}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--also", type=float, action="append", default=[], metavar="SECONDS",
                        help="replay with the check at this listen.barge_in_seconds as well")
    args = parser.parse_args()
    tally = Tally(others={threshold: Other() for threshold in args.also})
    for folder in args.folders:
        replay(folder, tally)
    print(f"false barge-ins: live {tally.false_live}; replayed without the check "
          f"{tally.false_replayed[0]}, with it {tally.false_replayed[1]}")
    print(f"real barge-ins: live {tally.real_live}; replayed without the check "
          f"{tally.real_heard[0]}, with it {tally.real_heard[1]}"
          + (f"; with it, decided {min(tally.later) * 1000:.0f}-{max(tally.later) * 1000:.0f} ms "
             f"after the onset live found (median {np.median(tally.later) * 1000:.0f})"
             if tally.later else ""))
    print(f"the check: {tally.seconds / max(1, tally.chunks) * 1e6:.0f} us CPU per 30 ms chunk")
    for threshold, other in tally.others.items():
        sooner = np.array(other.sooner or [0.0]) * 1000
        print(f"barge_in_seconds = {threshold:g}, with the check: {other.false} false, "
              f"{other.heard} real heard; decided {np.median(sooner):.0f} ms sooner than the "
              f"default (median; {sooner.min():.0f} to {sooner.max():.0f})")


if __name__ == "__main__":
    main()
