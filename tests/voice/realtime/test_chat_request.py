"""Reading an audio chat-completions request: the question, the history, the answer's form."""

from __future__ import annotations

import base64
import io
import wave

import numpy as np
import pytest

from koe.voice.realtime.chat_request import ChatRequestError, read_request


def wav_b64(pcm: np.ndarray, rate: int, channels: int = 1, width: int = 2) -> str:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return base64.b64encode(out.getvalue()).decode()


def audio_part(data: str, fmt: str = "wav") -> dict:
    return {"type": "input_audio", "input_audio": {"data": data, "format": fmt}}


def test_a_spoken_and_typed_question() -> None:
    pcm = (np.sin(np.arange(24000) / 10) * 8000).astype("<i2")
    request = read_request({"model": "m", "stream": True, "modalities": ["text", "audio"],
                            "audio": {"voice": "x", "format": "pcm16"},
                            "messages": [{"role": "system", "content": "be nice"},
                                         {"role": "user", "content": [
                                             {"type": "text", "text": " and this "},
                                             audio_part(wav_b64(pcm, 24000))]}]}, {})
    assert request.text == "and this" and request.stream and request.wants_audio
    assert request.audio is not None and abs(request.audio.size - 16000) < 50
    assert request.audio_format == "pcm16" and request.model == "m"


def test_stereo_audio_is_mixed_to_mono() -> None:
    pcm = np.zeros(16000 * 2, dtype="<i2")
    request = read_request({"messages": [{"role": "user", "content": [
        audio_part(wav_b64(pcm, 16000, channels=2))]}]}, {})
    assert request.audio is not None and request.audio.size == 16000


def test_the_history_pairs_questions_with_answers() -> None:
    request = read_request({"messages": [
        {"role": "user", "content": "first?"},
        {"role": "assistant", "content": "one."},
        {"role": "user", "content": [{"type": "text", "text": "second?"}]},
        {"role": "assistant", "audio": {"id": "audio_7"}},
        {"role": "user", "content": "third?"}]}, {"audio_7": "two."})
    assert request.history == [("first?", "one."), ("second?", "two.")]
    assert request.text == "third?" and not request.stream and request.audio_format == "wav"


@pytest.mark.parametrize(("body", "param"), [
    ([], None),
    ({"messages": "hi"}, "messages"),
    ({"messages": [{"role": "assistant", "content": "x"}]}, "messages"),
    ({"messages": [{"role": "user", "content": "  "}]}, "messages"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "messages"),
    ({"messages": [{"role": "user", "content": [audio_part("%%%")]}]}, "input_audio.data"),
    ({"messages": [{"role": "user", "content": [audio_part("AAAA")]}]}, "input_audio.data"),
    ({"messages": [{"role": "user", "content": [audio_part("AAAA", "mp3")]}]},
     "input_audio.format"),
    ({"messages": [{"role": "user", "content": [audio_part(
        wav_b64(np.zeros(10, np.uint8), 8000, width=1))]}]}, "input_audio.data"),
    ({"audio": {"format": "flac"}, "messages": [{"role": "user", "content": "x"}]},
     "audio.format"),
    ({"stream": True, "modalities": ["audio"], "audio": {"format": "wav"},
      "messages": [{"role": "user", "content": "x"}]}, "audio.format"),
])
def test_bad_requests_say_which_field(body: object, param: str | None) -> None:
    with pytest.raises(ChatRequestError) as caught:
        read_request(body, {})
    assert caught.value.param == param
