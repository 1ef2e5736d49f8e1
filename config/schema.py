"""Typed settings: one pydantic model per section of config/default.toml."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """Base for every section: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class GuardSettings(Section):
    vad_filter: bool = True
    condition_on_previous_text: bool = False
    no_speech_threshold: float = Field(0.6, ge=0.0, le=1.0)
    logprob_threshold: float = Field(-1.0, le=0.0)
    min_avg_logprob: float = Field(-1.5, le=0.0)
    max_no_speech_prob: float = Field(0.9, ge=0.0, le=1.0)
    max_repeats: int = Field(3, ge=1)


class SttSettings(Section):
    model: str = Field("tiny.en", min_length=1)
    multilingual_model: str = Field("base", min_length=1)
    language: str = Field("en", pattern=r"^(auto|[a-z]{2,3})$")
    beam_size: int = Field(5, ge=1, le=20)
    compute_type: Literal["int8", "int8_float32", "int16", "float16", "float32", "default"] = (
        "int8"
    )
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    threads: int = Field(0, ge=0)
    guards: GuardSettings = GuardSettings()


OutputFormat = Literal["txt", "srt", "vtt", "json"]


class TranscribeSettings(Section):
    formats: list[OutputFormat] = Field(default_factory=lambda: ["txt"], min_length=1)
    output_dir: str = ""
    word_timestamps: bool = False
    batch_min_seconds: float = Field(60.0, ge=0.0)
    batch_size: int = Field(8, ge=1, le=64)


class Settings(Section):
    stt: SttSettings = SttSettings()
    transcribe: TranscribeSettings = TranscribeSettings()
