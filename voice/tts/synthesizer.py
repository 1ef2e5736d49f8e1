"""Speech synthesis with Piper: text in, int16 mono PCM out at the voice's own sample rate.

Resampling to the device rate is the speaker's job (voice/audio/resample.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from koe.config.errors import ModelError
from koe.config.schema import TtsSettings
from koe.voice.tts.chunk import SpokenChunk
from koe.voice.tts.voices import VoiceFiles, resolve_voice

if TYPE_CHECKING:
    from piper import PiperVoice

# Piper scales every sentence to full scale; a little headroom keeps resampling (whose
# filters overshoot on peaks) from clipping at the speaker.
VOLUME = 0.9
WARM_UP_TEXT = "Hello."
_PIPER_INPUTS = {"input", "input_lengths", "scales"}


@dataclass(frozen=True)
class SessionMemory:
    """How onnxruntime holds the voice's working memory. koe's choice: its arena (freed
    tensors kept for the next sentence) without per-shape memory plans. A plan is made for
    each input shape, and every sentence is a new length of phonemes, so the plans kept
    growing the arena turn after turn (`scripts/bench_tts_memory.py`)."""

    arena: bool = True
    shape_plans: bool = False


class PiperSynthesizer:
    """A loaded Piper voice. Safe to call from worker threads (`asyncio.to_thread`): calls
    take turns one sentence at a time, so a cancelled reply holds the voice for one sentence
    at most and the CPU is left to the LLM and Whisper between sentences."""

    def __init__(self, voice: PiperVoice, files: VoiceFiles, speed: float = 1.0) -> None:
        from piper import SynthesisConfig

        self.voice = voice
        self.files = files
        # speed 1.0 is the voice's own pace; Piper's length_scale stretches phonemes.
        self._config = SynthesisConfig(length_scale=voice.config.length_scale / speed,
                                       volume=VOLUME)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, tts: TtsSettings, memory: SessionMemory = SessionMemory()
             ) -> PiperSynthesizer:
        """Load the voice `tts.voice` names; ModelError with a hint if it can't be. `memory`:
        how onnxruntime holds memory (koe's choice unless a benchmark compares others)."""
        from piper import PiperConfig, PiperVoice

        files = resolve_voice(tts.voice)
        try:
            config = PiperConfig.from_dict(files.read_config())
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelError(f"Piper voice config {files.config} is not usable ({exc})",
                             hint="download the .onnx.json that belongs to this voice again"
                             ) from exc
        voice = PiperVoice(session=_session(files, tts.threads, memory), config=config)
        return cls(voice, files, tts.speed)

    @property
    def sample_rate(self) -> int:
        return self.voice.config.sample_rate

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        """int16 mono PCM at `sample_rate`, one array per sentence of `text`, each as soon as
        it is made. Text with nothing to say yields nothing."""
        sentences = iter(self.voice.synthesize(text, self._config))
        while True:
            with self._lock:
                chunk = next(sentences, None)
            if chunk is None:
                return
            yield chunk.audio_int16_array

    def speak(self, text: str) -> SpokenChunk:
        """All of `text` as one chunk: a single blocking call, fit for `asyncio.to_thread`."""
        pcm = list(self.synthesize(text))
        audio = np.concatenate(pcm) if pcm else np.zeros(0, dtype=np.int16)
        return SpokenChunk(text, audio, self.sample_rate)

    def warm_up(self) -> None:
        """Run once so the first reply does not pay for phonemiser start-up and ONNX
        allocation."""
        for _ in self.synthesize(WARM_UP_TEXT):
            pass


def _session(files: VoiceFiles, threads: int, memory: SessionMemory) -> object:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = memory.arena
    options.enable_mem_pattern = memory.shape_plans
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    try:
        # onnxruntime's load errors are plain Exception subclasses (InvalidProtobuf, Fail...).
        session = onnxruntime.InferenceSession(str(files.model), sess_options=options,
                                               providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(
            f"cannot load Piper voice {files.model}: {str(exc).splitlines()[0]}",
            hint="the voice file may be damaged or not a Piper voice: download it again",
        ) from exc
    names = {i.name for i in session.get_inputs()}
    if not names >= _PIPER_INPUTS:
        raise ModelError(f"{files.model} is an ONNX model but not a Piper voice",
                         hint="choose a Piper voice (.onnx with its .onnx.json)")
    return session
