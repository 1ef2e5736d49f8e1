"""A sound device's played audio, placed on the microphone's timeline (see farend.py).

The device speaker knows when each block it wrote reaches the DAC, on its stream clock. The
loop tells it where the input stream is (`Speaker.sync(position)`, once a chunk) and the
speaker notes that position against the same clock: `InputClock` turns those notes into
"which input position is being recorded at clock time t". A chunk reaches the loop a little
after it was recorded, never before, so the smallest lag seen recently is the best estimate;
what remains of the error places played audio slightly early on the input timeline, the
side the echo canceller tolerates (its echo then just looks a few ms further away).

What the canceller cannot take well is the echo's delay changing under it: each change costs
it seconds of relearning with echo let through (measured: a 10-20 ms shift in mid-reply let
the echo through for the rest of it). And DAC times jitter: PulseAudio's moved by up to 21 ms
between blocks of one continuous stream. So the tap places audio by the device's own sample
count (`index`, frames since the stream opened, silence included), which advances exactly
with what is played, and ties that count to the input timeline with one constant. It keeps
the constant while the device plays on, and changes it only when the estimate moves clearly
(`STEADY_SECONDS`), and then only between played stretches, never inside one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.audio.resample import StreamResampler

WINDOW_SECONDS = 5.0  # notes older than this are forgotten: device clocks drift apart
JUMP_SECONDS = 0.1  # a note this much later than the best one: the input restarted
STEADY_SECONDS = 0.02  # the placement follows the estimate once it has moved this far
SLIP_SECONDS = 0.1  # the device's count and its DAC times disagree this much: it slipped


@dataclass
class InputClock:
    """Input stream position at a given time of the speaker's clock, from (position, time)
    notes taken as chunks arrive."""

    window: float = WINDOW_SECONDS
    _notes: deque[tuple[float, float]] = field(default_factory=deque, repr=False)
    _late: int = 0

    def note(self, position: int, now: float) -> None:
        offset = now - position / SAMPLE_RATE  # clock time of input position 0, + a lag
        best = self.offset
        self._late = self._late + 1 if best is not None and offset - best > JUMP_SECONDS else 0
        if self._late >= 2:
            self._notes.clear()  # late twice running: a restarted stream, not a busy moment
            self._late = 0
        # A monotonic deque: the front holds the smallest offset within the window.
        while self._notes and self._notes[-1][1] >= offset:
            self._notes.pop()
        self._notes.append((now, offset))
        while self._notes[0][0] < now - self.window:
            self._notes.popleft()

    @property
    def offset(self) -> float | None:
        return self._notes[0][1] if self._notes else None

    def position_at(self, time: float) -> int | None:
        """The input position recorded at clock `time`; None before the first note."""
        offset = self.offset
        return None if offset is None else round((time - offset) * SAMPLE_RATE)


@dataclass
class DeviceTap:
    """Follows what a device speaker queues and writes, and puts each written block, at
    16 kHz, onto a FarEnd at the input position where it is heard.

    The speaker's callback thread is left alone: the speaker tells the tap what it queued
    (`queued`, same order as the callback takes it) and, from the callback's reports, how
    many samples reached the device, at which device frame and DAC time (`wrote`)."""

    far: FarEnd
    rate: int
    clock: InputClock = field(default_factory=InputClock)
    _queue: deque[np.ndarray] = field(default_factory=deque, repr=False)
    _taken: int = 0  # samples of _queue[0] already written
    _resampler: StreamResampler = field(init=False, repr=False)
    # input position = device frame * SAMPLE_RATE / rate - _shift (both counted in 16 kHz
    # samples); None until placed
    _shift: float | None = None
    _estimates: deque[tuple[float, float]] = field(default_factory=deque, repr=False)
    _last: tuple[int, float] | None = None  # (device frame, DAC time) of the last block
    _run_position: int | None = None  # input position of the current run's first sample
    _run_out: int = 0  # 16 kHz samples of the run written so far
    _next_index: int = -1  # device frame just after the run so far

    def __post_init__(self) -> None:
        self._resampler = StreamResampler(self.rate, SAMPLE_RATE, np.dtype(np.float32))

    def sync(self, position: int, now: float) -> None:
        self.clock.note(position, now)

    def queued(self, block: np.ndarray) -> None:
        self._queue.append(block)

    def wrote(self, frames: int, dac_time: float, index: int, underflow: bool = False) -> None:
        """The next `frames` queued samples went to the device as its frames from `index` on,
        reaching the DAC from `dac_time` (speaker clock); `underflow`: it ran dry before."""
        samples = self._take(frames)
        position = self.clock.position_at(dac_time)
        if position is None:
            return  # no microphone running yet: nothing to cancel
        shift = index * SAMPLE_RATE / self.rate - position  # what this block alone implies
        self._last = (index, dac_time)
        if underflow or (self._shift is not None
                         and abs(shift - self._shift) > SLIP_SECONDS * SAMPLE_RATE):
            self.flush()  # the count and the clock part ways here: place afresh
            self._shift = None
            self._estimates.clear()
        self._note(dac_time, shift)
        if self._run_position is not None and index != self._next_index:
            self.flush()  # silence in between: the next block starts a new run
        if self._run_position is None:
            self._run_position, self._run_out = self._place(index), 0
        self._next_index = index + frames
        self._emit(self._resampler.process(samples))

    def flush(self) -> None:
        """Everything queued has been written: push out what the resampler holds back."""
        if self._run_position is not None:
            self._emit(self._resampler.flush())
        self._resampler.reset()
        self._run_position = None

    def cut(self, now: float) -> None:
        """Playback stopped at clock `now`: what the device had buffered is never heard."""
        if self._shift is not None and self._last is not None:
            index, dac_time = self._last
            frame = index + (now - dac_time) * self.rate  # the device frame at the DAC now
            self.far.cut(round(frame * SAMPLE_RATE / self.rate - self._shift))
        self.forget()

    def forget(self) -> None:
        """The speaker dropped its queue (its stream restarts): so does the tap."""
        self._queue.clear()
        self._taken = 0
        self._resampler.reset()
        self._run_position = None
        self._shift = None
        self._estimates.clear()
        self._last = None
        self.far.moved()

    def _note(self, dac_time: float, shift: float) -> None:
        """Keep the largest shift of the window at the front: a larger shift places audio
        earlier, the side a jittery DAC time must err on."""
        while self._estimates and self._estimates[-1][1] <= shift:
            self._estimates.pop()
        self._estimates.append((dac_time, shift))
        while self._estimates[0][0] < dac_time - WINDOW_SECONDS:
            self._estimates.popleft()

    def _place(self, index: int) -> int:
        """The input position of device frame `index`, for a new run: the shift follows the
        estimate only once it has clearly moved."""
        estimate = self._estimates[0][1]
        if self._shift is None or abs(estimate - self._shift) > STEADY_SECONDS * SAMPLE_RATE:
            self._shift = estimate
        return round(index * SAMPLE_RATE / self.rate - self._shift)

    def _take(self, frames: int) -> np.ndarray:
        parts = []
        while frames > 0 and self._queue:
            block = self._queue[0]
            part = block[self._taken : self._taken + frames]
            parts.append(part)
            frames -= len(part)
            self._taken += len(part)
            if self._taken >= len(block):
                self._queue.popleft()
                self._taken = 0
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def _emit(self, out: np.ndarray) -> None:
        if out.size and self._run_position is not None:
            self.far.write(out, self._run_position + self._run_out)
            self._run_out += len(out)
