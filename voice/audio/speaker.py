"""The speaker: queued speech, played through a sound device, interruptible at any sample.

    async with Speaker.from_settings(settings.audio) as speaker:
        done = speaker.play(pcm, 22050, tag="sentence 1")   # resampled to the device's rate
        ...
        cut = await speaker.stop()      # barge-in: silence now; what each chunk got to play
        played = await done             # Played(tag, samples, played, sample_rate)

The output stream runs all the time. Its callback copies queued blocks out of a thread-safe
queue and posts (frames written, when they reach the DAC) back to the loop; everything else
(resampling, bookkeeping, timers) happens on the event loop. A chunk counts as played once
the device clock says its samples reached the DAC; `stop()` discards the device's buffer too.
Given a `FarEnd`, the speaker also lays what it plays on the microphone's timeline for the
echo canceller (echo/tap.py), from the positions the loop passes to `sync()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
from typing import Any, NamedTuple

import numpy as np

from koe.config.errors import AudioError
from koe.config.schema import AudioSettings
from koe.voice.audio.chunks import Played
from koe.voice.audio.devices import AudioDevice, close_stream, find_device, portaudio
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.tap import DeviceTap
from koe.voice.audio.files import from_int16
from koe.voice.audio.ledger import Ledger, Playhead
from koe.voice.audio.opened import StartsAndCloses
from koe.voice.audio.resample import StreamResampler

BLOCK_SECONDS = 0.01  # the callback fills 10 ms at a time
LOW_WATER_SECONDS = 0.05  # less queued than this: push out what the resampler holds back
STALL_SECONDS = 2.0  # the device took nothing for this long while we had audio: it is gone
_LOST = "lost"  # posted when PortAudio ends the stream by itself


class _Run(NamedTuple):
    """Consecutive chunks at one rate, resampled as one stream (no clicks between them)."""

    resampler: StreamResampler
    device_start: int
    sources: list[int]  # samples fed in so far (one-element list: mutable)


class _Feeder:
    """The PortAudio callback. Its state is its own; it touches nothing else but two queues."""

    def __init__(self, blocks: queue.SimpleQueue, reports: queue.SimpleQueue,
                 wake: Any, latency: float) -> None:
        self.blocks, self.reports, self.wake, self.latency = blocks, reports, wake, latency
        self.frames = 0  # every frame handed to the device, silence included: its sample clock
        self.reset()

    def reset(self) -> None:  # only while the stream is stopped
        self.block: np.ndarray | None = None
        self.offset = 0

    def __call__(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        filled = 0
        while filled < frames:
            if self.block is None or self.offset >= len(self.block):
                try:
                    self.block, self.offset = self.blocks.get_nowait(), 0
                except queue.Empty:
                    self.block = None
                    break
            n = min(frames - filled, len(self.block) - self.offset)
            outdata[filled : filled + n] = self.block[self.offset : self.offset + n, None]
            self.offset += n
            filled += n
        outdata[filled:] = 0
        if filled:
            dac = time.outputBufferDacTime or (time.currentTime + self.latency)
            self.reports.put((filled, dac, self.frames, bool(status.output_underflow)))
            self.wake()
        self.frames += frames

    def finished(self) -> None:
        self.reports.put(_LOST)
        self.wake()


class Speaker(StartsAndCloses):
    """An output device with a queue of chunks; `stop()` flushes it at once."""

    def __init__(self, device: AudioDevice, *, latency: float = 0.2,
                 stall_seconds: float = STALL_SECONDS, far: FarEnd | None = None) -> None:
        self.device = device
        self.latency = latency  # asked of PortAudio; under 0.2 s virtual devices underflow
        self.stall_seconds = stall_seconds
        self.rate = device.sample_rate
        self._tap = DeviceTap(far, self.rate) if far is not None else None
        self._stream: Any = None
        self._feeder: _Feeder | None = None
        self._blocks: queue.SimpleQueue = queue.SimpleQueue()
        self._reports: queue.SimpleQueue = queue.SimpleQueue()
        self._ledger = Ledger()
        self._run: _Run | None = None
        self._queued = 0  # device samples handed to the callback since the last reset
        self._playhead = Playhead(self.rate)
        self._settle_at: tuple[int, asyncio.TimerHandle] | None = None
        self._last_report = 0.0
        self._watchdog: asyncio.TimerHandle | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._error: AudioError | None = None
        self._closing = False

    @classmethod
    def from_settings(cls, settings: AudioSettings, **options: Any) -> Speaker:
        device = find_device(settings.output_device, "output")
        return cls(device, latency=settings.output_latency, **options)

    @property
    def playing(self) -> bool:
        return bool(self._ledger)

    async def start(self) -> None:
        if self._stream is None:
            self._error, self._closing = None, False
            self._stream = await asyncio.to_thread(self._open, asyncio.get_running_loop())

    async def close(self) -> None:
        if self._stream is None:
            return
        # Timers and reports that fire while the stream closes find no stream, and stop there.
        self._closing = True
        stream, self._stream = self._stream, None
        self._take_reports(stopping=True)
        self._ledger.cut(self._playhead.heard(stream.time))
        if self._tap is not None:
            self._tap.cut(stream.time)
        await asyncio.to_thread(close_stream, stream)
        self._reset()  # the callback has stopped for good: its state may be reset now

    def sync(self, position: int) -> None:
        """The input stream is at `position` now. A device plays in real time; the echo
        canceller's far end is placed on the input timeline from these notes."""
        if self._tap is not None and self._stream is not None:
            self._tap.sync(position, self._stream.time)

    def play(self, pcm: np.ndarray, sample_rate: int,
             tag: object = None) -> asyncio.Future[Played]:
        """Queue mono int16 (or float32) audio; the future says how much of it was played."""
        if self._error is not None:
            raise self._error
        if self._stream is None:
            raise AudioError(f"speaker {self.device.label()} is not open")
        samples = from_int16(pcm) if pcm.dtype == np.int16 else pcm.astype(np.float32)
        if samples.size == 0:
            return self._ledger.add(tag, 0, sample_rate, 0, 0, final=True)
        if self._run is not None and self._run.resampler.in_rate != sample_rate:
            self._close_run()
        if self._run is None:
            self._run = _Run(StreamResampler(sample_rate, self.rate), self._queued, [0])
        run = self._run
        source_start = run.sources[0]
        run.sources[0] += len(samples)
        self._enqueue(run.resampler.process(samples))
        ratio = self.rate / sample_rate
        self._ledger.finalize()  # the chunk before this one ends where this one starts
        future = self._ledger.add(tag, len(samples), sample_rate,
                                  run.device_start + int(source_start * ratio),
                                  run.device_start + int(run.sources[0] * ratio), final=False)
        self._idle.clear()
        self._arm_watchdog()
        self._top_up()
        return future

    async def stop(self) -> list[Played]:
        """Silence now: drop everything queued, including what the device had buffered.

        Returns a report for each chunk that had not finished (played in part, or not at all).
        """
        if self._stream is None or self._error is not None:
            return []  # a failed speaker has already reported everything as cut
        _drain(self._blocks)
        stream_time = self._stream.time
        sd = portaudio()
        # A few ms, done here so that no play() can slip in between. A device that has just
        # gone fails here, and again on the restart below, which reports it.
        with contextlib.suppress(sd.PortAudioError):
            self._stream.abort()
        self._take_reports(stopping=True)
        cut = self._ledger.cut(self._playhead.heard(stream_time))
        if self._tap is not None:
            self._tap.cut(stream_time)
        self._reset()
        try:
            self._stream.start()
        except sd.PortAudioError as exc:
            self._fail(f"could not restart ({exc})")
        return cut

    async def drained(self) -> None:
        """Wait until everything queued has been played (or cut by stop())."""
        if self._run is not None:
            self._close_run()
            self._schedule_settle()
        await self._idle.wait()
        if self._error is not None:
            raise self._error

    # -- the loop side of the device ------------------------------------------------------

    def _open(self, loop: asyncio.AbstractEventLoop) -> Any:
        sd = portaudio()

        def wake() -> None:
            # A closed event loop raises RuntimeError: nobody is listening any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._on_reports)

        self._feeder = _Feeder(self._blocks, self._reports, wake, self.latency)
        device = self.device
        try:
            stream = sd.OutputStream(
                device=device.index, samplerate=self.rate, channels=_channels(sd, device),
                dtype="float32", latency=self.latency, blocksize=round(self.rate * BLOCK_SECONDS),
                callback=self._feeder, finished_callback=self._feeder.finished)
            stream.start()
        except sd.PortAudioError as exc:
            raise AudioError(f"cannot open speaker {device.label()}: {exc}",
                             "check it with `koe devices`, or pick another with "
                             "audio.output_device") from exc
        return stream

    def _enqueue(self, block: np.ndarray) -> None:
        if block.size:
            self._blocks.put(block)
            self._queued += len(block)
            if self._tap is not None:
                self._tap.queued(block)

    def _close_run(self) -> None:
        """Push out the resampler's held-back tail; the last chunk's length is now exact."""
        if self._run is None:
            return
        self._enqueue(self._run.resampler.flush())
        self._run = None
        self._ledger.finalize(end=self._queued)

    def _top_up(self) -> None:
        low = self._queued - self._playhead.written < LOW_WATER_SECONDS * self.rate
        if low and self._run is not None:
            self._close_run()
            self._schedule_settle()

    def _on_reports(self) -> None:
        if self._take_reports() and self._stream is not None:
            self._last_report = asyncio.get_running_loop().time()
            self._top_up()
            self._schedule_settle()

    def _take_reports(self, stopping: bool = False) -> bool:
        """Move the callback's reports onto the written timeline; False if there were none."""
        got = lost = False
        while True:
            try:
                report = self._reports.get_nowait()
            except queue.Empty:
                break
            if isinstance(report, str):  # _LOST: the stream ended
                lost = True
                continue
            frames, dac, index, underflow = report
            self._playhead.wrote(frames, dac)
            if self._tap is not None:
                self._tap.wrote(frames, dac, index, underflow)
            got = True
        if lost and not (stopping or self._closing):
            self._fail("stopped")
            return False
        drained = self._run is None and self._playhead.written >= self._queued
        if got and drained and self._tap is not None:
            self._tap.flush()  # all written: the tap's resampler must not hold the end back
        return got

    def _schedule_settle(self) -> None:
        """A timer for the moment the oldest chunk will be wholly heard (once it is written)."""
        end = self._ledger.next_end()
        if end is None or self._stream is None:
            return
        if self._settle_at is not None and self._settle_at[0] == end:
            return
        when = self._playhead.time_of(end)
        if when is None:
            return  # not all written yet: the next report calls again
        if self._settle_at is not None:
            self._settle_at[1].cancel()
        delay = max(0.0, when - self._stream.time)
        self._settle_at = (end, asyncio.get_running_loop().call_later(delay, self._settle))

    def _settle(self) -> None:
        self._settle_at = None
        if self._stream is None:
            return
        self._ledger.settle(self._playhead.heard(self._stream.time))
        if not self._ledger:
            self._idle.set()
        self._schedule_settle()

    def _arm_watchdog(self) -> None:
        if self._watchdog is None:
            loop = asyncio.get_running_loop()
            self._last_report = loop.time()
            self._watchdog = loop.call_later(self.stall_seconds, self._check_stall)

    def _check_stall(self) -> None:
        self._watchdog = None
        self._on_reports()  # reports the loop has not yet seen mean the device is alive
        if not self._ledger or self._stream is None:
            return
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_report >= self.stall_seconds:
            self._fail(f"took no sound for {self.stall_seconds:g} s")
        else:
            self._watchdog = loop.call_later(self.stall_seconds, self._check_stall)

    def _fail(self, what: str) -> None:
        self._error = AudioError(f"speaker {self.device.label()} {what}; was it disconnected?",
                                 "reconnect it, or pick another with audio.output_device "
                                 "(`koe devices` lists them)")
        if self._stream is not None:
            self._ledger.cut(self._playhead.heard(self._stream.time))
            if self._tap is not None:
                self._tap.cut(self._stream.time)
        self._reset()

    def _reset(self) -> None:
        """Forget the queue and the timeline; the callback's own state too, once no callback
        can run any more (the stream is stopped, closed or dead)."""
        _drain(self._blocks)
        if self._tap is not None:
            self._tap.forget()
        if self._feeder is not None and (self._stream is None or not self._stream.active):
            self._feeder.reset()
        self._run = None
        self._queued = 0
        self._playhead.reset()
        for handle in (self._settle_at[1] if self._settle_at else None, self._watchdog):
            if handle is not None:
                handle.cancel()
        self._settle_at = self._watchdog = None
        self._ledger.cut(0)
        self._idle.set()


def _channels(sd: Any, device: AudioDevice) -> int:
    try:
        sd.check_output_settings(device=device.index, channels=1, dtype="float32",
                                 samplerate=device.sample_rate)
        return 1
    except sd.PortAudioError:
        return min(2, device.output_channels)


def _drain(q: queue.SimpleQueue) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return

