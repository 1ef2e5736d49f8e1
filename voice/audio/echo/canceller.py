"""The echo canceller the loop puts between the microphone and the VAD.

    far = FarEnd()                                   # the speaker writes what it plays here
    speaker = Speaker.from_settings(audio, far=far)  # or FileSpeaker(path, far=far)
    canceller = open_canceller(far, "auto")          # livekit, else pywebrtc-audio
    async for chunk in mic.chunks():
        speaker.sync(chunk.end)                      # places the far end on this timeline
        clean = canceller.near(chunk)                # same length and position, echo removed

`near()` must see every chunk, in order, speaking or not: the canceller keeps a model of the
room that silence on the far end keeps current. What AEC3 lets through now and then (see
leak.py) is marked chunk by chunk (`AudioChunk.echo`), so barge-in does not take it for the
user. `NoCanceller` (barge_in = false) passes the microphone through untouched.

AEC3 finds the echo by itself up to about 0.5 s behind what was played (measured: 46 dB
removed at 500 ms, 6 dB at 600 ms). A longer path (a Bluetooth speaker, a TV's sound) is
cancelled by giving its bulk `delay_ms` (what `koe doctor --echo` measures, less ~0.1 s):
the far end is then read that much earlier and AEC3 finds the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from koe.config.errors import AudioError, one_line
from koe.voice.audio.chunks import AudioChunk
from koe.voice.audio.echo.engines import FRAME, Engine, LivekitEngine, WebrtcAudioEngine
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.leak import LeakDetector
from koe.voice.audio.files import SAMPLE_RATE

EngineName = Literal["auto", "livekit", "webrtc-audio", "none"]
ENGINES: tuple[EngineName, ...] = ("auto", "livekit", "webrtc-audio", "none")
FIND_MS = 500  # how far behind the far end AEC3 finds an echo by itself (measured, above)
MAX_BULK_MS = 2000  # within what the far end keeps (farend.HISTORY_SECONDS)


class EchoCanceller(Protocol):
    far: FarEnd

    @property
    def engine(self) -> str: ...

    def near(self, chunk: AudioChunk) -> AudioChunk:
        """The microphone chunk with the echo of what `far` says was played taken out."""
        ...


@dataclass
class FrameCanceller:
    """Runs an engine over 10 ms frames of each chunk, with the far end of the same frames."""

    far: FarEnd
    _engine: Engine = field(repr=False)
    lag: int = 0  # the echo path's bulk delay in samples: the far end is read this much earlier
    leaks: LeakDetector | None = None  # marks the echo AEC3 lets through (None: never marked)
    _placements: int = field(default=0, repr=False)

    @property
    def engine(self) -> str:
        return self._engine.name

    def near(self, chunk: AudioChunk) -> AudioChunk:
        if self._placements != self.far.placements:
            # The speaker placed its audio anew (a new output stream): a model of the room
            # learnt on the old timing leaks the echo for a second or more (measured on the
            # virtual devices after every barge-in), a fresh one locks on at once.
            self._placements = self.far.placements
            self._engine = type(self._engine)()
        count = len(chunk.pcm)
        frames = -(-count // FRAME)
        # Only a stream's last chunk may fall short of a whole frame: it is padded with silence.
        near = np.zeros(frames * FRAME, dtype=np.int16)
        near[:count] = chunk.pcm
        far = self.far.read_int16(chunk.position - self.lag, frames * FRAME)
        out = np.empty_like(near)
        for start in range(0, len(near), FRAME):
            stop = start + FRAME
            out[start:stop] = self._engine.process(near[start:stop], far[start:stop])
        out = out[:count]
        echo = self.leaks is not None and self.leaks.leaked(chunk.pcm, out, chunk.position)
        return AudioChunk(out, chunk.position, echo)


@dataclass
class NoCanceller:
    """The microphone as it is (barge-in off); still reads the far end, so it never piles up."""

    far: FarEnd = field(default_factory=FarEnd)
    engine: str = "none"

    def near(self, chunk: AudioChunk) -> AudioChunk:
        self.far.read(chunk.position, 0)
        return chunk


def open_canceller(far: FarEnd, engine: str = "auto", delay_ms: float = 0.0,
                   mark_leaks: bool = True) -> EchoCanceller:
    """A canceller reading `far`: "livekit", "webrtc-audio", "none", or "auto" (the first
    that loads); `delay_ms`: the echo path's bulk delay, for paths longer than FIND_MS;
    `mark_leaks`: mark what AEC3 lets through as echo (off: measure AEC3 alone).
    AudioError in one line when the one asked for cannot load."""
    if not 0 <= delay_ms <= MAX_BULK_MS:
        raise AudioError(f"echo delay {delay_ms:g} ms is outside 0-{MAX_BULK_MS}",
                         "give the echo path's delay as `koe doctor --echo` measures it")
    if engine == "none":
        return NoCanceller(far)
    makers = {"livekit": LivekitEngine, "webrtc-audio": WebrtcAudioEngine}
    if engine not in makers and engine != "auto":
        raise AudioError(f"unknown echo canceller '{engine}'",
                         f"use one of: {', '.join(ENGINES)}")
    names = list(makers) if engine == "auto" else [engine]
    failures = []
    for name in names:
        try:
            lag = round(delay_ms * SAMPLE_RATE / 1000)
            leaks = LeakDetector(far, lag) if mark_leaks else None
            return FrameCanceller(far, makers[name](), lag, leaks)
        except (ImportError, OSError, RuntimeError) as exc:
            failures.append(f"{name}: {one_line(str(exc), 120)}")
    package = {"livekit": "livekit", "webrtc-audio": "pywebrtc-audio"}
    raise AudioError("no echo canceller could load (" + "; ".join(failures) + ")",
                     "pip install " + " or ".join(package[n] for n in names)
                     + ", or turn barge-in off")
