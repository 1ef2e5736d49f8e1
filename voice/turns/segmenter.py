"""Raw microphone PCM in, turn events with their audio out: VadFramer + Endpointer + a buffer.

The buffer holds only what an event can still need: while idle, the onset window plus the
pre-roll; while speaking, the utterance so far. So memory stays bounded by `max_seconds`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from koe.config.schema import ListenSettings
from koe.voice.turns.endpointer import Endpointer
from koe.voice.turns.events import SpeechEnded, SpeechPaused, SpeechStarted, TurnEvent
from koe.voice.turns.pcm import Pcm, PcmWindow
from koe.voice.turns.thresholds import Thresholds
from koe.voice.turns.vad import VadFramer


class Segmenter:
    """Feed 16 kHz mono int16 chunks of any size; get SpeechStarted, SpeechPaused,
    SpeechResumed and SpeechEnded back, SpeechPaused and SpeechEnded with their PCM."""

    def __init__(self, settings: ListenSettings | None = None) -> None:
        settings = settings or ListenSettings()
        self.thresholds = Thresholds.from_settings(settings)
        self._framer = VadFramer(settings.vad_aggressiveness, settings.frame_ms)
        self._endpointer = Endpointer(self.thresholds)
        self._audio = PcmWindow()

    @property
    def position(self) -> int:
        """Stream position (samples) up to which audio has been judged; a partial frame
        waiting for the next chunk is not counted yet."""
        return self._endpointer.position

    @property
    def in_speech(self) -> bool:
        return self._endpointer.in_speech

    def feed(self, pcm: Pcm) -> list[TurnEvent]:
        events: list[TurnEvent] = []
        for frame in self._framer.frames(pcm):
            self._audio.append(frame.pcm)
            for event in self._endpointer.process(frame.samples, frame.is_speech):
                events.append(self._with_audio(event))
            if not self._endpointer.in_speech:
                self._audio.drop_before(self.position - self._endpointer.lookback_samples)
        return events

    def utterance_so_far(self) -> np.ndarray:
        """The open utterance's audio from its start (pre-roll included) to `position`, for
        transcribing while the user still speaks; empty when no one is speaking."""
        start = self._endpointer.utterance_start
        if start is None:
            return np.zeros(0, dtype=np.int16)
        return self._audio.slice(start, self.position)

    def finish(self) -> list[TurnEvent]:
        """End of input: an open utterance ends here (reason "stream_end")."""
        return [self._with_audio(e) for e in self._endpointer.finish()]

    def reset(self, at_sample: int | None = None) -> None:
        """Discard everything heard so far, e.g. while the assistant speaks in half-duplex.

        `at_sample` is the stream position of the next sample to be fed, when audio was
        skipped meanwhile (keeps positions true to the microphone); default: carry on from
        `position`.
        """
        self._framer.reset()
        self._endpointer.reset(at_sample)
        self._audio.clear(self.position)

    def _with_audio(self, event: TurnEvent) -> TurnEvent:
        if isinstance(event, SpeechStarted):
            self._audio.drop_before(event.start_sample)
        elif isinstance(event, SpeechPaused):
            event = dataclasses.replace(event, pcm=self._audio.slice(event.start_sample,
                                                                     event.sample))
        elif isinstance(event, SpeechEnded):
            event = dataclasses.replace(event, pcm=self._audio.slice(event.start_sample,
                                                                     event.end_sample))
            self._audio.drop_before(event.end_sample)
        return event
