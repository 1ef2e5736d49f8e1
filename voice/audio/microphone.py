"""The microphone: a sound device as a stream of 16 kHz mono int16 chunks with positions.

    async with Microphone.from_settings(settings.audio) as mic:
        async for chunk in mic.chunks(): ...     # AudioChunk(pcm, position), FRAME_SAMPLES each
The device is opened at its own rate; the PortAudio callback only copies each block onto the
event loop, where it is mixed to mono and resampled to 16 kHz. (FileMicrophone in filemode.py
is the same thing for an audio file.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from koe.config.errors import AudioError
from koe.config.schema import AudioSettings
from koe.voice.audio.chunks import FRAME_SAMPLES, AudioChunk, Framer
from koe.voice.audio.devices import AudioDevice, close_stream, find_device, portaudio
from koe.voice.audio.files import SAMPLE_RATE, to_int16
from koe.voice.audio.opened import StartsAndCloses
from koe.voice.audio.resample import StreamResampler

BLOCK_SECONDS = 0.01  # PortAudio hands over 10 ms at a time
# Room in the device's buffer for a busy moment (blocks still come every 10 ms). Measured on
# the virtual devices: 0.1 s costs ~8 ms of delay over PortAudio's low-latency default
# (17 -> 25 ms median), where 0.2 s would cost ~28 ms.
INPUT_BUFFER_SECONDS = 0.1
STALL_SECONDS = 2.0  # no audio for this long from a running device means it is gone
_CLOSED = object()  # end of the stream: close() was called
_LOST = object()  # PortAudio ended the stream by itself


class Microphone(StartsAndCloses):
    """A sound device as a stream of 16 kHz int16 chunks; AudioError if the device goes away."""

    def __init__(self, device: AudioDevice, *, frame_samples: int = FRAME_SAMPLES,
                 stall_seconds: float = STALL_SECONDS) -> None:
        self.device = device
        self.frame_samples = frame_samples
        self.stall_seconds = stall_seconds
        self.position = 0
        self.overflows = 0  # blocks the device had to drop because we read too late
        self._stream: Any = None
        self._blocks: asyncio.Queue[Any] = asyncio.Queue()
        self._closing = False

    @classmethod
    def from_settings(cls, settings: AudioSettings, **options: Any) -> Microphone:
        return cls(find_device(settings.input_device, "input"), **options)

    async def start(self) -> None:
        if self._stream is not None:
            return
        self._blocks, self._closing = asyncio.Queue(), False
        self._stream = await asyncio.to_thread(self._open, asyncio.get_running_loop())

    async def close(self) -> None:
        self._closing = True
        stream, self._stream = self._stream, None
        if stream is not None:
            await asyncio.to_thread(close_stream, stream)
        self._blocks.put_nowait(_CLOSED)

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        """Frames of `frame_samples` until close(); AudioError when the device stops."""
        if self._stream is None:
            raise AudioError(f"microphone {self.device.label()} is not started")
        resampler = StreamResampler(self.device.sample_rate, SAMPLE_RATE, np.float32)
        framer = Framer(self.frame_samples, self.position)
        while True:
            item = await self._next_block()
            if item is _CLOSED:
                return
            block, overflowed = item
            self.overflows += overflowed
            mono = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
            for chunk in framer.push(to_int16(resampler.process(mono))):
                self.position = chunk.end
                yield chunk

    async def _next_block(self) -> Any:
        try:
            async with asyncio.timeout(self.stall_seconds):
                item = await self._blocks.get()
        except TimeoutError:
            if self._closing:
                return _CLOSED
            raise self._lost("gave no sound for "
                             f"{self.stall_seconds:g} s") from None
        if item is _LOST:
            if self._closing:
                return _CLOSED
            raise self._lost("stopped")
        return item

    def _lost(self, what: str) -> AudioError:
        return AudioError(f"microphone {self.device.label()} {what}; was it disconnected?",
                          "reconnect it, or pick another with audio.input_device "
                          "(`koe devices` lists them)")

    def _open(self, loop: asyncio.AbstractEventLoop) -> Any:
        sd = portaudio()
        blocks = self._blocks

        def post(item: object) -> None:
            # A closed event loop raises RuntimeError: nobody is listening any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(blocks.put_nowait, item)

        def callback(indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
            post((indata.copy(), bool(status.input_overflow)))

        device, rate = self.device, self.device.sample_rate
        channels = _channels(sd, device, rate)
        try:
            stream = sd.InputStream(device=device.index, samplerate=rate, channels=channels,
                                    dtype="float32", blocksize=round(rate * BLOCK_SECONDS),
                                    latency=INPUT_BUFFER_SECONDS, callback=callback,
                                    finished_callback=lambda: post(_LOST))
            stream.start()
        except sd.PortAudioError as exc:
            raise AudioError(f"cannot open microphone {device.label()}: {_reason(exc)}",
                             "check it with `koe devices`, or pick another with "
                             "audio.input_device") from exc
        return stream


def _channels(sd: Any, device: AudioDevice, rate: int) -> int:
    """Mono when the device offers it (it mixes down itself), else stereo mixed down here."""
    try:
        sd.check_input_settings(device=device.index, channels=1, dtype="float32",
                                samplerate=rate)
        return 1
    except sd.PortAudioError:
        return min(2, device.input_channels)



def _reason(exc: Exception) -> str:
    return str(exc.args[0] if exc.args else exc).rstrip(".")
