"""Hearing the user over koe's own voice: voice activity on the echo-cancelled microphone, the
barge-in rule, and the last moments of audio, so that the interruption is heard in full from
its onset once koe has stopped."""

from __future__ import annotations

from collections import deque

import numpy as np

from koe.config.schema import ListenSettings
from koe.voice.audio.chunks import AudioChunk
from koe.voice.turns.barge_in import BargeIn, BargeInRule
from koe.voice.turns.pcm import samples_of
from koe.voice.turns.vad import VadFramer

# Audio kept while koe speaks: the onset the rule decided from, plus the pre-roll, plus slack.
KEEP_SECONDS = 2.0


class BargeInListener:
    def __init__(self, listen: ListenSettings) -> None:
        self.listen = listen
        self._framer = VadFramer(listen.vad_aggressiveness, listen.frame_ms)
        self._rule = BargeInRule.from_settings(listen)
        self._recent: deque[AudioChunk] = deque()
        self._position = 0

    def start(self, position: int) -> None:
        """koe starts answering at stream `position`: nothing heard before counts."""
        self._framer.reset()
        self._rule.reset(at_sample=position)
        self._recent.clear()
        self._position = position

    def feed(self, chunk: AudioChunk) -> BargeIn | None:
        self._keep(chunk)
        decided = None
        for frame in self._framer.frames(chunk.pcm):
            hit = self._rule.process(frame.samples, frame.is_speech, self._position)
            self._position += frame.samples
            decided = decided or hit
        return decided

    def audio_from(self, sample: int) -> tuple[int, np.ndarray]:
        """The kept audio from `sample` (or the oldest kept, if later) to now, and where it
        starts."""
        if not self._recent:
            return sample, np.zeros(0, dtype=np.int16)
        start = max(sample, self._recent[0].position)
        pcm = np.concatenate([c.pcm for c in self._recent])
        return start, pcm[start - self._recent[0].position:]

    def _keep(self, chunk: AudioChunk) -> None:
        self._recent.append(chunk)
        while self._recent and chunk.end - self._recent[0].end > samples_of(KEEP_SECONDS):
            self._recent.popleft()
