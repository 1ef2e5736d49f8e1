"""The barge-in rule: is the user really talking over koe? is_speech flags in, one event out.

While koe speaks, the microphone signal has been through echo cancellation, so what the VAD
still calls speech is either the user or residual echo. The two look different frame by frame:
- residual echo (AEC3 removes 34-41 dB) leaves isolated voiced frames, about 1 in 100;
- the user, attenuated 3-7 dB by AEC3 during double talk, is still flagged on 47-79 % of the
  frames of their speech, in runs broken by a frame or two.
So the rule is loose in one way and strict in another: `voiced_seconds` of voiced frames
(0.12 s by default), not necessarily in a row, within the last `window_seconds` (0.3 s). A
broken run at half density reaches it within the window; scattered blips never add up to it.

No audio, no clock: positions are stream samples (16 kHz), as in the endpointer, so the event
says exactly where the speech began that it decided from.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from koe.config.schema import ListenSettings
from koe.voice.turns.pcm import samples_of, to_seconds


@dataclass(frozen=True)
class BargeIn:
    """The user is talking over koe: stop speaking now.

    `sample` is the stream position at which the rule decided (the end of the frame that
    reached the threshold); `speech_sample` is the first voiced sample of the speech it
    decided from, i.e. the user's onset as far as the VAD can tell.
    """

    sample: int
    speech_sample: int
    voiced_samples: int  # voiced audio inside the window when it decided
    type: Literal["barge_in"] = field(default="barge_in", init=False)

    @property
    def seconds(self) -> float:
        return to_seconds(self.sample)

    @property
    def speech_seconds(self) -> float:
        return to_seconds(self.speech_sample)

    @property
    def delay_seconds(self) -> float:
        """From the onset to the decision: the rule's share of the stop latency."""
        return to_seconds(self.sample - self.speech_sample)


class BargeInRule:
    """Feed one VAD verdict per frame while koe speaks; get a `BargeIn` once the user talks.

    After a `BargeIn` the window starts empty, so another one needs another `voiced_seconds`
    of speech. Call `reset()` when koe starts speaking again (or the stream skipped audio that
    was not judged), so nothing heard before counts.
    """

    def __init__(self, voiced_seconds: float = 0.12, window_seconds: float = 0.3,
                 start_sample: int = 0) -> None:
        if voiced_seconds <= 0:
            raise ValueError(f"voiced_seconds must be above 0, got {voiced_seconds}")
        if window_seconds < voiced_seconds:
            raise ValueError(f"window_seconds ({window_seconds}) must be at least "
                             f"voiced_seconds ({voiced_seconds})")
        self.voiced_seconds = voiced_seconds
        self.window_seconds = window_seconds
        self._needed = samples_of(voiced_seconds)
        self._window = samples_of(window_seconds)
        self._voiced: deque[tuple[int, int]] = deque()  # voiced frames in the window: [start, end)
        self._position = start_sample

    @classmethod
    def from_settings(cls, listen: ListenSettings, start_sample: int = 0) -> BargeInRule:
        """The rule `[listen]` describes. Whether to use it at all is `listen.barge_in`."""
        return cls(listen.barge_in_seconds, listen.barge_in_window_seconds, start_sample)

    @property
    def position(self) -> int:
        """Stream position after the last frame judged."""
        return self._position

    @property
    def voiced_samples(self) -> int:
        """Voiced audio within the window that ends at `position`."""
        low = self._position - self._window
        return sum(end - max(start, low) for start, end in self._voiced if end > low)

    def process(self, samples: int, is_speech: bool, position: int | None = None) -> BargeIn | None:
        """One frame of `samples` samples and its VAD verdict (after echo cancellation).

        `position` is the stream position of the frame's first sample; by default the frame
        follows the previous one. A later position means audio was skipped: it counts as not
        voiced. An earlier one is an error (the stream cannot go back).
        """
        if samples <= 0:
            raise ValueError(f"a frame has at least one sample, got {samples}")
        start = self._position if position is None else position
        if start < self._position:
            raise ValueError(f"frame at sample {start} is before the last frame's end "
                             f"({self._position})")
        self._position = start + samples
        if is_speech:
            if self._voiced and self._voiced[-1][1] == start:
                self._voiced[-1] = (self._voiced[-1][0], self._position)  # one run, one entry
            else:
                self._voiced.append((start, self._position))
        low = self._position - self._window
        while self._voiced and self._voiced[0][1] <= low:
            self._voiced.popleft()
        voiced = self.voiced_samples
        if not is_speech or voiced < self._needed:
            return None
        onset = self._voiced[0][0]  # a run reaching into the window counts from its start
        self._voiced.clear()
        return BargeIn(self._position, speech_sample=onset, voiced_samples=voiced)

    def reset(self, at_sample: int | None = None) -> None:
        """Forget what was heard; the next frame starts at `at_sample` (default: where the
        last one ended)."""
        if at_sample is not None:
            self._position = at_sample
        self._voiced.clear()
