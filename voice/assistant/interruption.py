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
# An echo canceller that has heard little of koe's voice leaves bursts of echo: measured over
# 15 simulated rooms, a cold one caused false barge-ins in the first ~2 s of speech. Until it
# has heard this much, barge-in asks for clearer speech.
SETTLE_SECONDS = 3.0
# AEC3 turns the first syllable of a user cutting in down with the echo, and the leak check may
# then take it for echo: the interruption is heard from up to this much earlier than the onset
# the rule found, over chunks taken for echo.
REACH_BACK_SECONDS = 0.3
SETTLING_VOICED_SECONDS = 0.35
SETTLING_WINDOW_SECONDS = 0.5


class BargeInListener:
    def __init__(self, listen: ListenSettings) -> None:
        self.listen = listen
        self._framer = VadFramer(listen.vad_aggressiveness, listen.frame_ms)
        self._settled = BargeInRule.from_settings(listen)
        self._settling = BargeInRule(max(SETTLING_VOICED_SECONDS, listen.barge_in_seconds),
                                     max(SETTLING_WINDOW_SECONDS, listen.barge_in_window_seconds))
        self._recent: deque[AudioChunk] = deque()
        self._position = 0
        self.echo_heard = 0.0  # seconds of koe's voice the canceller has had to learn from

    def start(self, position: int) -> None:
        """koe starts answering at stream `position`: nothing heard before counts."""
        self._framer.reset()
        self._settled.reset(at_sample=position)
        self._settling.reset(at_sample=position)
        self._recent.clear()
        self._position = position

    def feed(self, chunk: AudioChunk, koe_speaking: bool) -> BargeIn | None:
        """One microphone chunk (echo-cancelled) while koe answers; a BargeIn once the user
        is talking over it."""
        self._keep(chunk)
        if koe_speaking:
            self.echo_heard += chunk.seconds
        rule = self._settled if self.echo_heard >= SETTLE_SECONDS else self._settling
        decided = None
        # What the canceller judged its own echo is silence to the rule (and to the VAD, whose
        # sense of the room it would skew); the audio is kept as heard, for the transcript.
        heard = np.zeros_like(chunk.pcm) if chunk.echo else chunk.pcm
        for frame in self._framer.frames(heard):
            for each in (self._settled, self._settling):  # both keep time; one decides
                hit = each.process(frame.samples, frame.is_speech, self._position)
                if each is rule:
                    decided = decided or hit
            self._position += frame.samples
        return decided

    def interruption(self, hit: BargeIn) -> tuple[int, np.ndarray]:
        """The user's words as kept, and where they start: from the pre-roll before the onset
        the rule found, or from before the chunks taken for echo just ahead of it."""
        onset = hit.speech_sample
        earliest = onset - samples_of(REACH_BACK_SECONDS)
        for chunk in reversed(self._recent):
            if chunk.position >= onset:
                continue  # heard after the onset
            if not chunk.echo or chunk.end < onset or chunk.position < earliest:
                break
            onset = chunk.position
        return self.audio_from(onset - samples_of(self.listen.pre_roll_seconds))

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
