"""A Realtime session's input audio: 24 kHz from the client, heard at 16 kHz by koe.

With server VAD the audio goes through koe's own segmenter, whose end-of-speech silence is the
session's `silence_duration_ms`; without it the audio waits in a capped buffer for the client's
`input_audio_buffer.commit`. Either way memory is bounded: the segmenter keeps at most one
utterance (`max_seconds`), the buffer at most `MAX_BUFFER_SECONDS`.
"""

from __future__ import annotations

import numpy as np

from koe.config.schema import ListenSettings
from koe.voice.audio.resample import StreamResampler
from koe.voice.realtime.events import RATE, ProtocolError, SessionConfig
from koe.voice.turns.events import SpeechEnded, TurnEvent
from koe.voice.turns.pcm import SAMPLE_RATE
from koe.voice.turns.segmenter import Segmenter

MAX_BUFFER_SECONDS = 120.0  # a committed turn without server VAD; Whisper takes it whole


def listen_settings(base: ListenSettings, config: SessionConfig) -> ListenSettings:
    """koe's endpointing with the session's turn detection: silence, pre-roll, and the VAD's
    threshold as webrtcvad's aggressiveness (0.5, the protocol's default, is koe's 2)."""
    silence = min(max(config.silence_duration_ms / 1000, base.frame_ms / 1000), 5.0)
    return base.model_copy(update={
        "silence_seconds": silence,
        "pre_roll_seconds": min(config.prefix_padding_ms / 1000, 2.0),
        "vad_aggressiveness": min(3, int(config.threshold * 4)),
        "speculate_seconds": min(base.speculate_seconds, silence / 2),
    })


def to_ms(sample: int) -> int:
    """A 16 kHz stream position in milliseconds from the session's first sample."""
    return sample * 1000 // SAMPLE_RATE


class InputAudio:
    """The session's input: `append` 24 kHz int16 and get turn events (server VAD), or
    `take` the buffered audio on commit (no server VAD)."""

    def __init__(self, base: ListenSettings, config: SessionConfig) -> None:
        self.base = base
        self.server_vad = config.server_vad
        self.segmenter = Segmenter(listen_settings(base, config))
        self._resampler = StreamResampler(RATE, SAMPLE_RATE, np.int16)
        self._buffer: list[np.ndarray] = []
        self._buffered = 0
        self._position = 0  # 16 kHz samples received (server VAD keeps its own)

    def configure(self, config: SessionConfig) -> None:
        """New turn detection: an utterance in progress is dropped, the stream goes on."""
        position = self.position
        self.server_vad = config.server_vad
        self.segmenter = Segmenter(listen_settings(self.base, config))
        self.segmenter.reset(at_sample=position)
        self._position = position
        self._drop_buffer()

    @property
    def position(self) -> int:
        return self.segmenter.position if self.server_vad else self._position

    @property
    def in_speech(self) -> bool:
        return self.server_vad and self.segmenter.in_speech

    def append(self, pcm: np.ndarray) -> list[TurnEvent]:
        """Hear more audio; with server VAD the turn events it completes."""
        heard = self._resampler.process(pcm)
        if self.server_vad:
            return self.segmenter.feed(heard)
        room = int(MAX_BUFFER_SECONDS * SAMPLE_RATE) - self._buffered
        kept = heard[:max(room, 0)]
        self._buffer.append(kept)
        self._buffered += len(kept)
        self._position += len(kept)
        if len(kept) < len(heard):
            raise ProtocolError(f"the input audio buffer is full ({MAX_BUFFER_SECONDS:.0f} s); "
                                "commit or clear it", "input_audio_buffer_full")
        return []

    def take(self) -> SpeechEnded:
        """Commit: everything heard since the last commit, as one utterance."""
        if self.server_vad:
            ended = [e for e in self.segmenter.finish() if isinstance(e, SpeechEnded)]
            self.segmenter.reset()
            if not ended:
                raise ProtocolError("the input audio buffer holds no speech to commit",
                                    "input_audio_buffer_commit_empty")
            return ended[-1]
        if self._buffered == 0:
            raise ProtocolError("the input audio buffer is empty",
                                "input_audio_buffer_commit_empty")
        pcm = np.concatenate(self._buffer)
        end = self._position
        self._drop_buffer()
        return SpeechEnded(sample=end, start_sample=end - len(pcm), end_sample=end,
                           speech_end_sample=end, reason="stream_end", pcm=pcm)

    def clear(self) -> None:
        """Drop the audio not yet committed (an utterance in progress too)."""
        self.segmenter.reset()
        self._drop_buffer()

    def _drop_buffer(self) -> None:
        self._buffer.clear()
        self._buffered = 0
