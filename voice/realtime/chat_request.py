"""An audio chat-completions request, read: the question (spoken and/or typed), the history,
and how the answer is wanted. Anything malformed is a `ChatRequestError` (HTTP 400)."""

from __future__ import annotations

import base64
import binascii
import io
import wave
from dataclasses import dataclass, field

import numpy as np

from koe.config.errors import KoeError
from koe.voice.audio.resample import resample
from koe.voice.turns.pcm import SAMPLE_RATE

MAX_AUDIO_SECONDS = 120.0
FORMATS = ("wav", "pcm16")


class ChatRequestError(KoeError):
    """The request cannot be served as sent; `param` names the field at fault."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


@dataclass
class ChatRequest:
    text: str = ""  # typed words of the last user message
    audio: np.ndarray | None = None  # its spoken part, 16 kHz int16
    history: list[tuple[str, str]] = field(default_factory=list)  # (user, assistant) pairs
    stream: bool = False
    audio_format: str = "wav"
    model: str = "koe"
    wants_audio: bool = True


def read_request(body: object, transcripts: dict[str, str]) -> ChatRequest:
    """The request in `body` (parsed JSON); `transcripts` maps earlier audio ids to their words,
    so an assistant message that refers to its audio by id is known in the history."""
    if not isinstance(body, dict):
        raise ChatRequestError("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ChatRequestError("messages must be a non-empty list", "messages")
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        raise ChatRequestError("the last message must be the user's", "messages")
    request = ChatRequest(stream=body.get("stream") is True,
                          model=str(body.get("model") or "koe"))
    modalities = body.get("modalities") or ["text"]
    request.wants_audio = isinstance(modalities, list) and "audio" in modalities
    audio = body.get("audio") or {}
    if not isinstance(audio, dict):
        raise ChatRequestError("audio must be an object", "audio")
    request.audio_format = audio.get("format") or ("pcm16" if request.stream else "wav")
    if request.audio_format not in FORMATS:
        raise ChatRequestError(f"audio.format {request.audio_format!r} is not supported; "
                               f"use one of {', '.join(FORMATS)}", "audio.format")
    if request.stream and request.wants_audio and request.audio_format != "pcm16":
        raise ChatRequestError("streamed audio is pcm16", "audio.format")
    request.text, request.audio = _content(last.get("content"))
    request.history = _history(messages[:-1], transcripts)
    if not request.text and request.audio is None:
        raise ChatRequestError("the user message holds neither text nor audio", "messages")
    return request


def _content(content: object) -> tuple[str, np.ndarray | None]:
    if isinstance(content, str):
        return content.strip(), None
    if not isinstance(content, list):
        raise ChatRequestError("message content must be a string or a list of parts",
                               "messages")
    texts: list[str] = []
    audio = None
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"].strip())
        elif kind == "input_audio" and isinstance(part.get("input_audio"), dict):
            audio = _audio(part["input_audio"])
        else:
            raise ChatRequestError(f"unsupported content part {kind!r}", "messages")
    return " ".join(t for t in texts if t), audio


def _audio(spec: dict) -> np.ndarray:
    fmt = spec.get("format")
    if fmt != "wav":
        raise ChatRequestError(f"input_audio format {fmt!r} is not supported; send wav",
                               "input_audio.format")
    try:
        raw = base64.b64decode(spec.get("data") or "", validate=True)
        with wave.open(io.BytesIO(raw)) as wav:
            if wav.getsampwidth() != 2:
                raise ChatRequestError("input_audio must be 16-bit PCM wav",
                                       "input_audio.data")
            rate, channels = wav.getframerate(), wav.getnchannels()
            if wav.getnframes() > MAX_AUDIO_SECONDS * rate:
                raise ChatRequestError(f"input_audio is longer than {MAX_AUDIO_SECONDS:.0f} s",
                                       "input_audio.data")
            frames = wav.readframes(wav.getnframes())
    except (binascii.Error, ValueError, wave.Error, EOFError) as exc:
        raise ChatRequestError(f"input_audio is not a readable wav: {exc}",
                               "input_audio.data") from None
    pcm = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    if channels > 1:
        pcm = pcm[: len(pcm) // channels * channels].reshape(-1, channels).mean(axis=1)
        pcm = pcm.astype(np.int16)
    return resample(pcm, rate, SAMPLE_RATE)


def _history(messages: list, transcripts: dict[str, str]) -> list[tuple[str, str]]:
    """Earlier (user, assistant) pairs as text; system messages and audio-only user turns
    (their words were stored when they were asked) are left out."""
    pairs: list[tuple[str, str]] = []
    user = ""
    for message in messages:
        if not isinstance(message, dict):
            raise ChatRequestError("every message must be an object", "messages")
        if message.get("role") == "user":
            content = message.get("content")
            user = content if isinstance(content, str) else " ".join(
                p.get("text", "") for p in content or [] if isinstance(p, dict)
                and p.get("type") == "text")
        elif message.get("role") == "assistant":
            reply = message.get("content") if isinstance(message.get("content"), str) else ""
            audio = message.get("audio")
            if not reply and isinstance(audio, dict):
                reply = transcripts.get(str(audio.get("id")), "")
            if user.strip() and reply:
                pairs.append((user.strip(), reply))
            user = ""
    return pairs
