"""Typed settings: one pydantic model per section of config/default.toml."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from koe.config.validators import EndpointUrl, Language


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
    short_clip_seconds: float = Field(1.0, ge=0.0)
    short_clip_max_no_speech_prob: float = Field(0.6, ge=0.0, le=1.0)
    max_syllables_per_second: float = Field(8.0, gt=0.0)


class SttSettings(Section):
    model: str = Field("tiny.en", min_length=1)
    multilingual_model: str = Field("base", min_length=1)
    language: Language = "en"
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
    batch_chunk_seconds: float = Field(30.0, ge=5.0, le=30.0)
    repair_skipped: bool = True
    remember: bool = False


class LocalLlmSettings(Section):
    model: str = Field("qwen2.5-coder-1.5b-instruct", min_length=1)
    context_size: int = Field(4096, ge=256)
    threads: int = Field(0, ge=0)
    chat_template: str = ""
    startup_timeout: float = Field(120.0, gt=0)


class LlmSettings(Section):
    endpoint: EndpointUrl = "local"
    model: str = Field("", max_length=200)
    api_key_env: str = Field("OPENAI_API_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(300, ge=1)
    connect_timeout: float = Field(5.0, gt=0)
    first_token_timeout: float = Field(60.0, gt=0)
    read_timeout: float = Field(30.0, gt=0)
    max_retries: int = Field(3, ge=0, le=10)
    history_tokens: int = Field(1500, ge=0)
    max_reply_seconds: float = Field(180.0, gt=0, allow_inf_nan=False)
    max_reply_chars: int = Field(4000, ge=100)
    local: LocalLlmSettings = LocalLlmSettings()


class ChatSettings(Section):
    memories: int = Field(6, ge=0, le=50)
    summarize: bool = True


class MemorySettings(Section):
    path: str = ""
    url: str = Field("", pattern=r"^(|https?://\S+)$")
    collection: str = Field("koe-memories", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,62}[a-zA-Z0-9]$")
    embedding_model: str = Field("packaged", min_length=1)
    threads: int = Field(0, ge=0)
    user: str = Field("default", min_length=1)
    timezone: str = ""
    recency_weight: float = Field(0.1, ge=0.0, le=1.0)
    recency_half_life_days: float = Field(30.0, gt=0.0)
    min_similarity: float = Field(0.2, ge=-1.0, le=1.0)
    idle_minutes: float = Field(30.0, gt=0.0)
    summary_chars: int = Field(400, ge=80, le=4000)
    chunk_chars: int = Field(1000, ge=200, le=8000)
    max_text_chars: int = Field(1_000_000, ge=1000)
    compact_on_forget: bool = True
    timeout: float = Field(10.0, gt=0.0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """Checked here: an unknown zone would otherwise surface mid-conversation."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        name = value.strip()
        if name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError('not a time zone name; use an IANA name such as '
                                 '"Europe/Berlin", or "" for this computer\'s zone') from None
        return name


class AudioSettings(Section):
    input_device: str = ""
    output_device: str = ""
    output_latency: float = Field(0.2, ge=0.0, le=2.0)


EndpointPreset = Literal["relaxed", "default", "aggressive"]


class ListenSettings(Section):
    vad_aggressiveness: int = Field(2, ge=0, le=3)
    frame_ms: Literal[10, 20, 30] = 30
    endpoint: EndpointPreset = "default"
    silence_seconds: float = Field(0.0, ge=0.0, le=5.0)
    speech_seconds: float = Field(0.25, ge=0.03, le=2.0)
    pre_roll_seconds: float = Field(0.3, ge=0.0, le=2.0)
    max_seconds: float = Field(30.0, ge=1.0, le=300.0)
    speculate_seconds: float = Field(0.15, ge=0.0, le=2.0)
    barge_in: bool = True
    barge_in_seconds: float = Field(0.12, ge=0.03, le=2.0)
    barge_in_window_seconds: float = Field(0.3, ge=0.03, le=5.0)

    @field_validator("barge_in_window_seconds")
    @classmethod
    def _window_holds_the_speech(cls, value: float, info: ValidationInfo) -> float:
        needed = info.data.get("barge_in_seconds")
        if needed is not None and value < needed:
            raise ValueError(f"must be at least barge_in_seconds ({needed})")
        return value


class TtsSettings(Section):
    voice: str = Field("packaged", min_length=1)
    speed: float = Field(1.0, ge=0.5, le=2.0)
    threads: int = Field(1, ge=0)


class RunSettings(Section):
    # Calibrated chance that a memory is what the question asks about (memory/search/ranking.py).
    min_relevance: float = Field(0.1, ge=0.0, le=1.0)
    memories: int = Field(3, ge=0, le=20)
    speak_errors: bool = True
    wake_phrase: str = Field("", max_length=60)
    follow_up_seconds: float = Field(8.0, ge=0.0, le=600.0)

    @field_validator("wake_phrase")
    @classmethod
    def _has_a_word(cls, value: str) -> str:
        phrase = " ".join(value.split())
        if phrase and not any(c.isalnum() for c in phrase):
            raise ValueError('needs at least one word, e.g. "hey koe"; "" for no wake phrase')
        return phrase


S2sMode = Literal["cascade", "realtime", "audio-chat", "auto"]


class S2sSettings(Section):
    mode: S2sMode = "cascade"
    url: str = Field("", pattern=r"^(|https?://\S+)$")
    model: str = Field("", max_length=200)
    api_key_env: str = Field("OPENAI_API_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    voice: str = Field("", max_length=60)
    dialect: Literal["ga", "beta"] = "ga"
    turn_detection: Literal["server", "local"] = "server"
    connect_timeout: float = Field(5.0, gt=0)
    reply_timeout: float = Field(30.0, gt=0)
    probe_timeout: float = Field(5.0, gt=0)


class Settings(Section):
    stt: SttSettings = SttSettings()
    transcribe: TranscribeSettings = TranscribeSettings()
    llm: LlmSettings = LlmSettings()
    chat: ChatSettings = ChatSettings()
    memory: MemorySettings = MemorySettings()
    audio: AudioSettings = AudioSettings()
    listen: ListenSettings = ListenSettings()
    tts: TtsSettings = TtsSettings()
    run: RunSettings = RunSettings()
    s2s: S2sSettings = S2sSettings()
