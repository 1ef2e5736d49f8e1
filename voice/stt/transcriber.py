"""Speech to text with faster-whisper, hallucination guards on."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from koe.config.errors import ModelError
from koe.config.schema import SttSettings
from koe.voice.audio.files import SAMPLE_RATE
from koe.voice.stt.gap_repair import SpeechRegion, merge_regions, with_repairs
from koe.voice.stt.guards import guard_segments
from koe.voice.stt.models import ResolvedModel, fetch_upstream, resolve_model
from koe.voice.stt.segments import TranscriptSegment, Word

if TYPE_CHECKING:
    from faster_whisper import BatchedInferencePipeline, WhisperModel


def choose_model_name(stt: SttSettings, language: str | None = None) -> str:
    """The configured model, or the multilingual one when the language needs it."""
    language = language or stt.language
    english_only = stt.model.endswith(".en")
    if english_only and language != "en":
        return stt.multilingual_model
    return stt.model


@dataclass
class TranscriptionRun:
    """One call's result: the language known up front, segments as they are decoded."""

    language: str
    segments: Iterator[TranscriptSegment]


class Transcriber:
    """A loaded Whisper model plus the decoding options koe uses everywhere."""

    def __init__(self, model: WhisperModel, resolved: ResolvedModel, stt: SttSettings,
                 language: str | None) -> None:
        self.model = model
        self.resolved = resolved
        self.stt = stt
        self.language = language  # None: detect per call

    @classmethod
    def load(cls, stt: SttSettings, language: str | None = None) -> Transcriber:
        language = language or stt.language
        resolved = resolve_model(choose_model_name(stt, language))
        if resolved.english_only and language not in ("en", "auto"):
            raise ModelError(
                f"model {resolved.requested} understands English only, not {language!r}",
                hint="choose a multilingual model (base, small, large-v3) with --model",
            )
        return cls(load_whisper(resolved, stt), resolved, stt,
                   None if language == "auto" else language)

    @cached_property
    def batched(self) -> BatchedInferencePipeline:
        from faster_whisper import BatchedInferencePipeline

        return BatchedInferencePipeline(self.model)

    def transcribe(self, audio: np.ndarray, *, word_timestamps: bool = False,
                   batch_size: int = 0, batch_chunk_seconds: float = 30.0,
                   repair_skipped: bool = True,
                   window_seconds: int | None = None) -> TranscriptionRun:
        """Decode `audio` (16 kHz mono float32); batch_size > 1 uses the batched pipeline,
        which cuts speech into chunks of at most `batch_chunk_seconds` and, with
        `repair_skipped`, transcribes again any stretch of speech it left out.
        `window_seconds` shortens Whisper's 30 s input window for short utterances."""
        if batch_size > 1 and self.stt.guards.vad_filter:
            return self._transcribe_batched(audio, word_timestamps, batch_size,
                                            batch_chunk_seconds, repair_skipped)
        raw, info = self.model.transcribe(audio, chunk_length=window_seconds,
                                          **self._options(word_timestamps))
        segments = (_from_whisper(s) for s in raw)
        return TranscriptionRun(info.language, guard_segments(segments, self.stt.guards,
                                                              len(audio) / SAMPLE_RATE))

    def _options(self, word_timestamps: bool, language: str | None = None,
                 vad_filter: bool | None = None) -> dict[str, object]:
        guards = self.stt.guards
        return dict(
            language=language or self.language,
            beam_size=self.stt.beam_size,
            word_timestamps=word_timestamps,
            vad_filter=guards.vad_filter if vad_filter is None else vad_filter,
            condition_on_previous_text=guards.condition_on_previous_text,
            no_speech_threshold=guards.no_speech_threshold,
            log_prob_threshold=guards.logprob_threshold,
        )

    def _transcribe_batched(self, audio: np.ndarray, word_timestamps: bool, batch_size: int,
                            chunk_seconds: float, repair_skipped: bool) -> TranscriptionRun:
        """The batched pipeline over VAD chunks, then a sequential pass over what it skipped."""
        regions = speech_regions(audio, chunk_seconds)
        if not regions:
            return TranscriptionRun(self.language or "", iter(()))
        clips = [{"start": c.start, "end": c.end} for c in merge_regions(regions, chunk_seconds)]
        # With timestamps the batched pipeline drops far fewer sentences (see benchmarks).
        raw, info = self.batched.transcribe(
            audio, batch_size=batch_size, clip_timestamps=clips, without_timestamps=False,
            **self._options(word_timestamps, vad_filter=False))
        options = self._options(word_timestamps, language=info.language, vad_filter=False)

        def repair(region: SpeechRegion) -> list[TranscriptSegment]:
            clip = audio[int(region.start * SAMPLE_RATE) : int(region.end * SAMPLE_RATE)]
            again, _ = self.model.transcribe(clip, **options)
            return [_from_whisper(s).shifted(region.start) for s in again]

        segments = (_from_whisper(s) for s in raw)
        if repair_skipped:
            segments = with_repairs(segments, regions, repair)
        return TranscriptionRun(info.language, guard_segments(segments, self.stt.guards,
                                                              len(audio) / SAMPLE_RATE))


def speech_regions(audio: np.ndarray, max_seconds: float) -> list[SpeechRegion]:
    """Where the Silero model (shipped with faster-whisper) hears speech, in seconds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    # The batched pipeline's own settings: split at 160 ms pauses, never over a chunk.
    options = VadOptions(max_speech_duration_s=max_seconds, min_silence_duration_ms=160)
    return [SpeechRegion(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE)
            for r in get_speech_timestamps(audio, options)]


def load_whisper(resolved: ResolvedModel, stt: SttSettings) -> WhisperModel:
    from faster_whisper import WhisperModel

    path = fetch_upstream(resolved.path) if resolved.source == "upstream" else resolved.path
    try:
        return WhisperModel(path, device=stt.device, compute_type=stt.compute_type,
                            cpu_threads=stt.threads or os.cpu_count() or 1)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(
            f"cannot load Whisper model {resolved.requested} from {path}: {exc}",
            hint="the model files may be damaged: reinstall the package or re-download the model",
        ) from exc


def _from_whisper(segment: object) -> TranscriptSegment:
    words = tuple(
        Word(w.start, w.end, w.word, w.probability) for w in (segment.words or ())
    )
    return TranscriptSegment(
        start=segment.start,
        end=segment.end,
        text=segment.text.strip(),
        avg_logprob=segment.avg_logprob,
        no_speech_prob=segment.no_speech_prob,
        words=words,
    )
