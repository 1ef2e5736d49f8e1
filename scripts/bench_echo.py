#!/usr/bin/env python3
"""Echo cancellation: CPU per 10 ms frame, and what it removes, on Piper speech in one run.

    python3 scripts/bench_echo.py [--seconds 20] [--repeats 3]

A reply spoken by Piper comes back through file mode's echo room (120 ms, gain 0.5) with a
user's words over its middle (double talk); each echo canceller cleans it chunk by chunk as
the loop would. Prints, per canceller: CPU time per 10 ms frame (best of --repeats), its
share of one core in real time, the ratio to the loop's webrtcvad framing of the same audio
(the baseline, measured here too), the ERLE on echo-only speech, and the share of 30 ms
frames webrtcvad calls speech: on echo alone, raw and cleaned, and on the user's words (with
the leak check, as barge-in hears them: chunks it marks as echo are silence). Also
the device speaker's share: laying 44.1 kHz blocks on the far end (resampling included).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from koe.config.schema import TtsSettings
from koe.voice.audio.chunks import FRAME_SAMPLES, AudioChunk
from koe.voice.audio.echo.canceller import open_canceller
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.measure import ratio_db
from koe.voice.audio.echo.room import EchoRoom
from koe.voice.audio.echo.tap import DeviceTap
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.resample import resample
from koe.voice.tts.synthesizer import PiperSynthesizer
from koe.voice.turns.vad import VadFramer

REPLY = ("Here is what I found. The train leaves at ten past nine from platform four, and the "
         "trip takes about two hours. There is a dining car, and the return train runs every "
         "hour until ten in the evening.")
USER = "Hold on, which platform did you say?"
FRAME_10MS = SAMPLE_RATE // 100
# (canceller, with the leak check): the check's row shows what barge-in hears (chunks marked
# as echo are silence to it) and what the check costs on top of AEC3.
ROWS = (("none", False), ("livekit", False), ("webrtc-audio", False), ("livekit", True))


def speech(synthesizer: PiperSynthesizer, text: str) -> np.ndarray:
    chunk = synthesizer.speak(text)
    return resample(chunk.pcm, chunk.sample_rate, SAMPLE_RATE)


def scene(reply: np.ndarray, user: np.ndarray, seconds: float
          ) -> tuple[np.ndarray, FarEnd, int, int, int]:
    """Replies back to back for `seconds`, heard through the room, the user over the middle
    of the first: (microphone, far end, echo start, user start, user end)."""
    far = FarEnd(history=round((seconds + 5) * SAMPLE_RATE))
    room = EchoRoom(far, 120, 0.5)
    position = SAMPLE_RATE // 2
    while position < seconds * SAMPLE_RATE:
        far.write(reply, position)
        position += len(reply) + SAMPLE_RATE // 2
    total = position
    user_at = (SAMPLE_RATE // 2 + len(reply) // 2) // FRAME_SAMPLES * FRAME_SAMPLES
    near = np.random.default_rng(0).normal(0, 30, total)
    near[user_at : user_at + len(user)] += 0.7 * user
    near = np.clip(near, -32768, 32767).astype(np.int16)
    mic = np.concatenate([room.mix(near[i : i + FRAME_SAMPLES], i)
                          for i in range(0, total, FRAME_SAMPLES)])
    return mic, far, SAMPLE_RATE // 2 + room.delay, user_at, user_at + len(user)


def cpu_per_frame(work: Callable[[], object], frames: int, repeats: int) -> float:
    """Best CPU seconds per 10 ms frame over `repeats` runs of `work`."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        work()
        best = min(best, (time.process_time() - start) / frames)
    return best


def voiced(pcm: np.ndarray) -> np.ndarray:
    return np.array([f.is_speech for f in VadFramer(2, 30).frames(pcm)], dtype=bool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    synthesizer = PiperSynthesizer.load(TtsSettings())
    reply, user = speech(synthesizer, REPLY), speech(synthesizer, USER)
    mic, far, echo_at, user_at, user_end = scene(reply, user, args.seconds)
    frames = len(mic) // FRAME_10MS
    chunks = [AudioChunk(mic[i : i + FRAME_SAMPLES], i) for i in range(0, len(mic), FRAME_SAMPLES)]
    alone = voiced(np.clip(0.7 * user, -32768, 32767).astype(np.int16))
    echo_only = slice(echo_at + SAMPLE_RATE, user_at)  # after a second of learning
    users = slice(user_at // FRAME_SAMPLES, user_end // FRAME_SAMPLES)
    echo_frames = slice(echo_only.start // FRAME_SAMPLES + 1, echo_only.stop // FRAME_SAMPLES)

    baseline = cpu_per_frame(lambda: VadFramer(2, 30).frames(mic), frames, args.repeats)
    print(f"{len(mic) / SAMPLE_RATE:.0f} s of audio (echo 120 ms, gain 0.5; the user over "
          f"{(user_end - user_at) / SAMPLE_RATE:.1f} s of it), {frames} frames of 10 ms")
    print(f"baseline, webrtcvad framing (the loop's VAD): {baseline * 1e6:6.1f} us / 10 ms frame")
    raw_voiced = voiced(mic)
    print(f"raw microphone: VAD speech on echo alone {raw_voiced[echo_frames].mean():.0%}, "
          f"on the user's words {raw_voiced[users][alone[: users.stop - users.start]].mean():.0%}")
    print(f"{'canceller':<16}{'us/frame':>7}{'core':>7}{'x VAD':>7}{'ERLE dB':>9}"
          f"{'VAD echo':>10}{'VAD user':>10}")
    for engine, marks in ROWS:
        outputs: list[AudioChunk] = []

        def run(engine: str = engine, marks: bool = marks,
                outputs: list[AudioChunk] = outputs) -> None:
            canceller = open_canceller(far, engine, mark_leaks=marks)
            outputs[:] = [canceller.near(chunk) for chunk in chunks]

        per = cpu_per_frame(run, frames, args.repeats)
        cleaned = np.concatenate([out.pcm for out in outputs])
        heard = np.concatenate([np.zeros_like(out.pcm) if out.echo else out.pcm
                                for out in outputs])
        flags = voiced(heard)
        kept = flags[users][alone[: users.stop - users.start]].mean()
        name = f"{engine}{' + leaks' if marks else ''}"
        print(f"{name:<16}{per * 1e6:7.1f}{per / 0.01:7.1%}{per / baseline:7.1f}"
              f"{ratio_db(mic[echo_only], cleaned[echo_only]):9.1f}"
              f"{flags[echo_frames].mean():10.0%}{kept:10.0%}")

    # The device speaker's side: each 10 ms block it writes, laid on the far end.
    rate = 44_100
    played = resample(reply.astype(np.float32) / 32768, SAMPLE_RATE, rate)
    block = rate // 100

    def tap_all() -> None:
        tap = DeviceTap(FarEnd(), rate)
        tap.sync(0, 0.0)
        for start in range(0, len(played) - block + 1, block):
            tap.queued(played[start : start + block])
            tap.wrote(block, 0.2 + start / rate, start)

    taps = len(played) // block
    per = cpu_per_frame(tap_all, taps, args.repeats)
    print(f"device tap (44.1 kHz blocks onto the far end): {per * 1e6:.1f} us / 10 ms block "
          f"({per / 0.01:.1%} of a core)")


if __name__ == "__main__":
    main()
