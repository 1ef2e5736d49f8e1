"""A session's input audio: 24 kHz speech heard by koe's endpointing with the session's turn
detection, or buffered (capped) for a manual commit."""

from __future__ import annotations

import numpy as np
import pytest

from koe.config.schema import ListenSettings
from koe.voice.audio.files import SAMPLE_RATE, decode_file, to_int16
from koe.voice.audio.resample import resample
from koe.voice.realtime.events import RATE, ProtocolError, SessionConfig
from koe.voice.realtime.listening import MAX_BUFFER_SECONDS, InputAudio, listen_settings, to_ms
from koe.voice.stt.speech_set import SpeechClip
from koe.voice.turns.events import SpeechEnded, SpeechStarted


def at_24k(clip: SpeechClip, silence: float = 1.5) -> np.ndarray:
    decoded = decode_file(clip.path)
    pcm = resample(to_int16(decoded.samples), SAMPLE_RATE, RATE)
    quiet = np.zeros(int(silence * RATE), dtype=np.int16)
    return np.concatenate([quiet, pcm, quiet])


def feed(heard: InputAudio, pcm: np.ndarray) -> list:
    events = []
    for start in range(0, len(pcm), 2400):  # 100 ms appends
        events += heard.append(pcm[start:start + 2400])
    return events


def test_the_session_sets_koes_endpointing() -> None:
    base = ListenSettings()
    listen = listen_settings(base, SessionConfig(silence_duration_ms=800, prefix_padding_ms=200,
                                                 threshold=0.9))
    assert listen.silence_seconds == 0.8 and listen.pre_roll_seconds == 0.2
    assert listen.vad_aggressiveness == 3
    assert listen_settings(base, SessionConfig()).vad_aggressiveness == base.vad_aggressiveness
    assert listen_settings(base, SessionConfig(silence_duration_ms=0)).silence_seconds > 0


def test_server_vad_hears_one_utterance(speech: list[SpeechClip]) -> None:
    clip = next(c for c in speech if c.path.name == "LDC93S1.wav")
    heard = InputAudio(ListenSettings(), SessionConfig())
    events = feed(heard, at_24k(clip))
    started = [e for e in events if isinstance(e, SpeechStarted)]
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert len(started) == 1 and len(ended) == 1
    # the clip's voice sits 1.5 s in; its end follows the endpoint silence
    assert 1000 <= to_ms(started[0].speech_sample) <= 1800
    assert ended[0].reason == "silence" and ended[0].pcm.size > 16000


def test_without_server_vad_the_buffer_waits_for_commit(speech: list[SpeechClip]) -> None:
    heard = InputAudio(ListenSettings(), SessionConfig(server_vad=False))
    with pytest.raises(ProtocolError) as empty:
        heard.take()
    assert empty.value.code == "input_audio_buffer_commit_empty"
    pcm = at_24k(speech[0], silence=0.2)
    assert feed(heard, pcm) == []
    committed = heard.take()
    assert abs(committed.pcm.size - pcm.size * 2 / 3) < 1600
    feed(heard, pcm)
    heard.clear()
    with pytest.raises(ProtocolError):
        heard.take()


def test_the_buffer_is_capped() -> None:
    heard = InputAudio(ListenSettings(), SessionConfig(server_vad=False))
    second = np.zeros(RATE, dtype=np.int16)
    for _ in range(int(MAX_BUFFER_SECONDS)):
        heard.append(second)
    with pytest.raises(ProtocolError) as full:
        heard.append(second)
    assert full.value.code == "input_audio_buffer_full"
    assert heard.take().pcm.size <= MAX_BUFFER_SECONDS * 16000


def test_turning_server_vad_on_keeps_the_clock(speech: list[SpeechClip]) -> None:
    heard = InputAudio(ListenSettings(), SessionConfig(server_vad=False))
    heard.append(np.zeros(RATE, dtype=np.int16))
    heard.configure(SessionConfig())
    assert heard.position >= 15000
    events = feed(heard, at_24k(next(c for c in speech if c.path.name == "LDC93S1.wav")))
    started = next(e for e in events if isinstance(e, SpeechStarted))
    assert to_ms(started.speech_sample) > 2000
