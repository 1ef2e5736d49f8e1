"""`koe serve chat` with httpx over a real socket: a spoken question as input_audio, the spoken
answer streamed as SSE audio deltas or returned whole as a wav; bad requests get a 400."""

from __future__ import annotations

import base64
import io
import json
import wave

import httpx
import numpy as np
import pytest

from koe.voice.audio.wav import wav_bytes
from koe.voice.realtime.events import RATE
from koe.voice.tts.synthesizer import PiperSynthesizer
from tests.voice.realtime.helpers import Served, spoken, words

pytestmark = pytest.mark.slow


def wav_of(pcm: np.ndarray, rate: int = RATE) -> str:
    return base64.b64encode(wav_bytes(pcm.astype(np.int16), rate)).decode()


def url(served: Served) -> str:
    return f"http://127.0.0.1:{served.chat_port}/v1/chat/completions"


def test_a_spoken_question_gets_a_streamed_spoken_answer(served: Served,
                                                         voice: PiperSynthesizer) -> None:
    question = spoken(voice, "What is the capital of Germany?", silence_after=0.3)
    body = {"model": "koe", "modalities": ["text", "audio"], "stream": True,
            "audio": {"voice": "koe", "format": "pcm16"},
            "messages": [{"role": "user", "content": [
                {"type": "input_audio", "input_audio": {"data": wav_of(question),
                                                        "format": "wav"}}]}]}
    deltas: list[dict] = []
    with httpx.stream("POST", url(served), json=body, timeout=180) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in reply.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    for line in lines[:-1]:
        chunk = json.loads(line[len("data: "):])
        assert chunk["object"] == "chat.completion.chunk"
        deltas.append(chunk["choices"][0])
    audio = [d["delta"]["audio"] for d in deltas if "audio" in d["delta"]]
    assert len({a["id"] for a in audio}) == 1
    transcript = "".join(a.get("transcript", "") for a in audio)
    pcm = np.concatenate([np.frombuffer(base64.b64decode(a["data"]), "<i2")
                          for a in audio if "data" in a])
    assert "expires_at" in audio[-1]
    assert deltas[-1]["finish_reason"] == "stop"
    assert "berlin" in words(transcript), transcript
    said = words(served.transcribe(pcm.astype(np.int16)))
    assert len(said & words(transcript)) >= len(words(transcript)) / 2


def test_a_typed_question_gets_a_whole_wav(served: Served) -> None:
    body = {"model": "koe", "modalities": ["text", "audio"],
            "audio": {"voice": "koe", "format": "wav"},
            "messages": [{"role": "user", "content": "What is the capital of Spain?"}]}
    reply = httpx.post(url(served), json=body, timeout=180)
    assert reply.status_code == 200
    message = reply.json()["choices"][0]["message"]
    audio = message["audio"]
    assert audio["id"] and audio["expires_at"] > 0
    with wave.open(io.BytesIO(base64.b64decode(audio["data"]))) as wav:
        assert wav.getframerate() == RATE and wav.getsampwidth() == 2
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.int16)
    assert "madrid" in words(audio["transcript"]), audio["transcript"]
    said = words(served.transcribe(pcm))
    assert len(said & words(audio["transcript"])) >= len(words(audio["transcript"])) / 2


@pytest.mark.parametrize(("body", "param"), [
    ("not json", None),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "assistant", "content": "hi"}]}, "messages"),
    ({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {
        "data": "@@@", "format": "wav"}}]}]}, "input_audio.data"),
    ({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {
        "data": "AAAA", "format": "mp3"}}]}]}, "input_audio.format"),
    ({"stream": True, "modalities": ["audio"], "audio": {"format": "wav"},
      "messages": [{"role": "user", "content": "hi"}]}, "audio.format"),
])
def test_a_bad_request_is_a_400(served: Served, body: object, param: str | None) -> None:
    content = body if isinstance(body, str) else json.dumps(body)
    reply = httpx.post(url(served), content=content, timeout=30,
                       headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == param
