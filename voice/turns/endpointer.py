"""The endpointing state machine: is_speech flags in, turn events out. No audio, no clock.

Two states. Idle: wait until `speech_seconds` of voiced frames fall within the onset window,
then start the utterance `pre_roll_seconds` before the first of them. Speaking: count silence
from the end of the last confirmed speech; pause at `speculate_seconds`, end at
`silence_seconds`, cut at `max_seconds`. Speech after a gap is confirmed only once it has run
`resume_seconds`, so a lone click neither cancels speculation nor restarts the silence clock.
All arithmetic is in whole samples, so positions are exact however long the stream.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from koe.voice.turns.events import (
    EndReason,
    SpeechEnded,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    TurnEvent,
)
from koe.voice.turns.pcm import samples_of
from koe.voice.turns.thresholds import Thresholds


@dataclass
class _Utterance:
    start: int  # includes the pre-roll
    speech_end: int  # end of the last confirmed voiced frame
    run_start: int = 0  # unconfirmed voiced run after a gap: where it began
    run: int = 0  # ... and how long it is so far
    paused: bool = False


class Endpointer:
    def __init__(self, thresholds: Thresholds | None = None, start_sample: int = 0) -> None:
        self.thresholds = thresholds or Thresholds()
        t = self.thresholds
        self._silence = samples_of(t.silence_seconds)
        self._speech = samples_of(t.speech_seconds)
        self._window = samples_of(t.onset_window_seconds)
        self._pre_roll = samples_of(t.pre_roll_seconds)
        self._max = samples_of(t.max_seconds)
        self._speculate = samples_of(t.speculate_seconds) if t.speculates else 0
        self._resume = samples_of(t.resume_seconds)
        self._onset: deque[tuple[int, int]] = deque()  # voiced frames in the window: (start, end)
        self._onset_voiced = 0
        self._utterance: _Utterance | None = None
        self._position = start_sample
        self._floor = start_sample  # pre-roll never reaches before this

    @property
    def position(self) -> int:
        """Stream position after the last frame processed."""
        return self._position

    @property
    def in_speech(self) -> bool:
        return self._utterance is not None

    @property
    def utterance_start(self) -> int | None:
        return self._utterance.start if self._utterance else None

    @property
    def lookback_samples(self) -> int:
        """How far before the current position a SpeechStarted can reach (audio to keep)."""
        return self._window + self._pre_roll

    def process(self, samples: int, is_speech: bool) -> list[TurnEvent]:
        """One frame of `samples` samples, voiced or not, and what it decided."""
        if samples <= 0:
            raise ValueError(f"a frame has at least one sample, got {samples}")
        frame_start = self._position
        self._position += samples
        if self._utterance is None:
            return self._idle(frame_start, is_speech)
        return self._speaking(self._utterance, frame_start, is_speech)

    def finish(self) -> list[TurnEvent]:
        """End of the stream: close an open utterance where the audio stops."""
        if self._utterance is None:
            return []
        return [self._end(self._utterance, "stream_end")]

    def reset(self, at_sample: int | None = None) -> None:
        """Forget any onset or utterance; the next frame starts at `at_sample` (default: where
        the last one ended). Nothing before it can become pre-roll."""
        if at_sample is not None:
            self._position = at_sample
        self._floor = self._position
        self._onset.clear()
        self._onset_voiced = 0
        self._utterance = None

    def _idle(self, frame_start: int, is_speech: bool) -> list[TurnEvent]:
        if is_speech:
            self._onset.append((frame_start, self._position))
            self._onset_voiced += self._position - frame_start
        while self._onset and self._onset[0][0] < self._position - self._window:
            start, end = self._onset.popleft()
            self._onset_voiced -= end - start
        if self._onset_voiced < self._speech:
            return []
        speech_sample = self._onset[0][0]
        start = max(speech_sample - self._pre_roll, self._floor)
        self._onset.clear()
        self._onset_voiced = 0
        self._utterance = _Utterance(start=start, speech_end=self._position)
        return [SpeechStarted(self._position, start_sample=start, speech_sample=speech_sample)]

    def _speaking(self, u: _Utterance, frame_start: int, is_speech: bool) -> list[TurnEvent]:
        events: list[TurnEvent] = []
        if is_speech:
            if u.run == 0:
                u.run_start = frame_start
            u.run += self._position - frame_start
            if frame_start == u.speech_end or u.run >= self._resume:
                u.speech_end = self._position
                u.run = 0
                if u.paused:
                    u.paused = False
                    events.append(SpeechResumed(self._position, speech_sample=u.run_start))
        else:
            # Verdicts wait for a non-voiced frame: speech arriving at the threshold gets
            # the benefit of the doubt until its run is confirmed or broken.
            u.run = 0
            silence = self._position - u.speech_end
            if silence >= self._silence:
                return [self._end(u, "silence")]
            if self._speculate and not u.paused and silence >= self._speculate:
                u.paused = True
                events.append(SpeechPaused(self._position, start_sample=u.start,
                                           speech_end_sample=u.speech_end))
        if self._position - u.start >= self._max:
            events.append(self._end(u, "max_length"))
        return events

    def _end(self, u: _Utterance, reason: EndReason) -> SpeechEnded:
        event = SpeechEnded(self._position, start_sample=u.start, end_sample=self._position,
                            speech_end_sample=u.speech_end, reason=reason)
        self.reset()
        return event
