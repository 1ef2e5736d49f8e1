"""File mode: an audio file as the microphone, a WAV file as the speaker, both in real time.

FileMicrophone yields the file as a live microphone would (a 30 ms chunk every 30 ms of loop
time, with stream positions). FileSpeaker "plays" in loop time too, so barge-in and stop()
behave as on a device, and on close() writes what was heard onto the input's timeline (silence
elsewhere): the input and that WAV, mixed, are what a room would have heard. The loop tells
the speaker where the input stream is with `sync(position)`.

With a `FarEnd` (echo/farend.py) the speaker also writes what it plays there, for the echo
canceller; an `EchoRoom` (echo/room.py) on the microphone mixes it back into the input, so
koe hears itself as in a room.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from koe.config.errors import AudioError
from koe.voice.audio.chunks import FRAME_SAMPLES, AudioChunk, Played
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.room import EchoRoom
from koe.voice.audio.files import SAMPLE_RATE, decode_file, from_int16, to_int16
from koe.voice.audio.opened import StartsAndCloses
from koe.voice.audio.resample import resample
from koe.voice.audio.wav import write_wav


class FileMicrophone(StartsAndCloses):
    """An audio file heard as a microphone: a chunk every 30 ms of loop time, then the end.

    `tail_seconds` of silence follow the file, so whatever listens sees the speech end.
    `realtime=False` hands the chunks over without waiting (for tools and tests).
    `room` adds the echo of what the file speaker played to each chunk.
    """

    def __init__(self, path: str | Path, *, frame_samples: int = FRAME_SAMPLES,
                 tail_seconds: float = 0.0, realtime: bool = True,
                 room: EchoRoom | None = None) -> None:
        self.path = Path(path)
        self.room = room
        self.frame_samples = frame_samples
        self.tail_seconds = tail_seconds
        self.realtime = realtime
        self.position = 0
        self.pcm: np.ndarray | None = None  # the whole input once started, int16
        self.started_at = 0.0  # loop time of position 0

    async def start(self) -> None:
        if self.pcm is None:
            decoded = await asyncio.to_thread(decode_file, self.path)
            tail = np.zeros(round(self.tail_seconds * SAMPLE_RATE), dtype=np.int16)
            self.pcm = np.concatenate([to_int16(decoded.samples), tail])
            self.started_at = asyncio.get_running_loop().time()

    async def close(self) -> None:
        self.pcm = None

    def now(self) -> int:
        """The stream position loop time has reached (where a live device would be)."""
        elapsed = asyncio.get_running_loop().time() - self.started_at
        return round(elapsed * SAMPLE_RATE)

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        if self.pcm is None:
            raise AudioError(f"{self.path}: microphone file is not started")
        loop = asyncio.get_running_loop()
        pcm = self.pcm
        while self.position < len(pcm):
            start, end = self.position, min(self.position + self.frame_samples, len(pcm))
            if self.realtime:  # a live microphone hands a frame over once it is recorded
                delay = self.started_at + end / SAMPLE_RATE - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            self.position = end
            piece = pcm[start:end]
            if self.room is not None:  # what was played up to now has been heard by now
                piece = self.room.mix(piece, start)
            yield AudioChunk(piece, start)


@dataclass
class _Sound:
    tag: object
    samples: np.ndarray  # float32 at rate
    rate: int
    start: float  # loop time it starts playing
    position: float  # input stream position (16 kHz samples) it starts at
    future: asyncio.Future[Played]
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)
    played: int = 0

    @property
    def heard(self) -> int:
        """Samples heard so far: all once finished, else as far as loop time has got."""
        if self.future.done():
            return self.played
        now = asyncio.get_running_loop().time()
        return max(0, min(len(self.samples), int((now - self.start) * self.rate)))

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / self.rate

    def finish(self, played: int) -> Played:
        self.played = played
        if self.timer is not None:
            self.timer.cancel()
        report = Played(self.tag, len(self.samples), played, self.rate)
        if not self.future.done():
            self.future.set_result(report)
        return report


class FileSpeaker(StartsAndCloses):
    """Plays in loop time and writes what was heard, on the input's timeline, to a WAV file;
    and to `far`, when given, as it is queued (stop() cuts it there too)."""

    def __init__(self, path: str | Path | None, *, sample_rate: int = SAMPLE_RATE,
                 far: FarEnd | None = None) -> None:
        self.path = Path(path) if path is not None else None  # None: heard, not written
        self.sample_rate = sample_rate  # of the WAV written
        self.far = far
        self._sounds: list[_Sound] = []
        self._anchor: tuple[int, float] | None = None  # (input position, loop time)
        self._busy_until = 0.0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def playing(self) -> bool:
        return not self._idle.is_set()

    async def start(self) -> None:
        if self.path is not None and not self.path.parent.is_dir():
            raise AudioError(f"{self.path.parent}: no such folder for the speaker file")
        if self._anchor is None:
            self._anchor = (0, asyncio.get_running_loop().time())

    def sync(self, position: int) -> None:
        """The input stream is at `position` now: playback started from now lands there."""
        self._anchor = (position, asyncio.get_running_loop().time())

    def play(self, pcm: np.ndarray, sample_rate: int,
             tag: object = None) -> asyncio.Future[Played]:
        loop = asyncio.get_running_loop()
        samples = from_int16(pcm) if pcm.dtype == np.int16 else pcm.astype(np.float32)
        start = max(loop.time(), self._busy_until)
        last = self._sounds[-1] if self._sounds else None
        if last is not None and start == last.end and not _cut(last):  # straight after it
            position = last.position + len(last.samples) * SAMPLE_RATE / last.rate
        else:
            anchor_position, anchor_time = self._anchor or (0, start)
            position = anchor_position + (start - anchor_time) * SAMPLE_RATE
        sound = _Sound(tag, samples, sample_rate, start, position, loop.create_future())
        if self.far is not None:  # on the input timeline already: the far end can take it now
            self.far.write(resample(samples, sample_rate, SAMPLE_RATE), round(position))
        self._sounds.append(sound)
        self._busy_until = sound.end
        sound.timer = loop.call_at(sound.end, self._finished, sound)
        self._idle.clear()
        return sound.future

    async def stop(self) -> list[Played]:
        stopped = [s for s in self._sounds if not s.future.done()]
        cut = [s.finish(s.heard) for s in stopped]
        if self.far is not None and stopped:  # where the sound playing now was cut
            self.far.cut(round(min(s.position + s.played * SAMPLE_RATE / s.rate
                                   for s in stopped)))
        self._busy_until = asyncio.get_running_loop().time()
        self._idle.set()
        return cut

    async def drained(self) -> None:
        await self._idle.wait()

    async def close(self) -> None:
        """Cut whatever is still playing, and write the WAV file."""
        await self.stop()
        if self.path is not None:
            write_wav(self.path, to_int16(self.render()), self.sample_rate)

    def render(self) -> np.ndarray:
        """What was heard so far, float32 at `sample_rate`, from input position 0 to the last
        position synced (or the end of the last sound)."""
        scale = self.sample_rate / SAMPLE_RATE
        end = max([self._anchor[0] if self._anchor else 0]
                  + [s.position + s.heard * SAMPLE_RATE / s.rate for s in self._sounds
                     if s.heard])
        out = np.zeros(round(end * scale), dtype=np.float32)
        for position, rate, samples in _runs(self._sounds):
            audio = resample(samples, rate, self.sample_rate)
            first = round(position * scale)
            piece = audio[: max(0, len(out) - first)]
            out[first : first + len(piece)] += piece
        return out

    def _finished(self, sound: _Sound) -> None:
        sound.timer = None
        sound.finish(len(sound.samples))
        if all(s.future.done() for s in self._sounds):
            self._idle.set()


def _cut(sound: _Sound) -> bool:
    return sound.future.done() and sound.played < len(sound.samples)


def _runs(sounds: list[_Sound]) -> list[tuple[float, int, np.ndarray]]:
    """Heard audio as runs of back-to-back sounds at one rate, resampled as one piece each."""
    runs: list[tuple[float, int, list[np.ndarray]]] = []
    previous: _Sound | None = None
    for sound in sounds:
        if sound.played == 0:
            previous = None
            continue
        heard = sound.samples[: sound.played]
        joined = (previous is not None and previous.rate == sound.rate
                  and previous.played == len(previous.samples) and sound.start == previous.end)
        if joined:
            runs[-1][2].append(heard)
        else:
            runs.append((sound.position, sound.rate, [heard]))
        previous = sound
    return [(position, rate, np.concatenate(parts)) for position, rate, parts in runs]
