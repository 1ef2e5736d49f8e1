"""Endpointing thresholds in seconds, from the `[listen]` settings."""

from __future__ import annotations

from dataclasses import dataclass

from koe.config.schema import EndpointPreset, ListenSettings

# Silence that ends a turn, per preset. Pauses inside a spoken sentence (between phrases, a
# breath, a hesitation) mostly last 0.2-0.5 s; the longest inside one sentence of the shared
# speech set is 0.54 s (JFK's "ask not ... / ask what"). So:
#   default 0.6 s: just above normal within-sentence pauses, 0.1 s snappier than Home
#     Assistant's 0.7 s; speculation at 0.15 s hides most of the wait anyway.
#   aggressive 0.4 s: for short commands; may answer during a deliberate pause.
#   relaxed 1.0 s: for slow or thoughtful speakers who stop mid-thought.
PRESET_SILENCE_SECONDS: dict[EndpointPreset, float] = {
    "relaxed": 1.0,
    "default": 0.6,
    "aggressive": 0.4,
}
# Onset: `speech_seconds` of voiced frames must fall within this multiple of it, so short
# bursts seconds apart (a knock now, a cough later) never add up to a turn, while the gaps
# between a first word's syllables still do.
ONSET_WINDOW_FACTOR = 2.0
# Speech after a gap must run this long before it counts: one voiced frame in a pause (a click,
# a breath) should neither cancel speculation nor restart the silence clock.
RESUME_SECONDS = 0.06


@dataclass(frozen=True)
class Thresholds:
    silence_seconds: float = PRESET_SILENCE_SECONDS["default"]
    speech_seconds: float = 0.25
    pre_roll_seconds: float = 0.3
    max_seconds: float = 30.0
    speculate_seconds: float = 0.15  # 0: never pause-speculate
    onset_window_seconds: float = 0.5
    resume_seconds: float = RESUME_SECONDS

    def __post_init__(self) -> None:
        for name in ("silence_seconds", "speech_seconds", "max_seconds", "onset_window_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be above 0, got {getattr(self, name)}")
        for name in ("pre_roll_seconds", "speculate_seconds", "resume_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.onset_window_seconds < self.speech_seconds:
            raise ValueError("onset_window_seconds must be at least speech_seconds")

    @property
    def speculates(self) -> bool:
        """A pause event only makes sense when it comes before the endpoint."""
        return 0 < self.speculate_seconds < self.silence_seconds

    @classmethod
    def from_settings(cls, listen: ListenSettings) -> Thresholds:
        return cls(
            silence_seconds=listen.silence_seconds or PRESET_SILENCE_SECONDS[listen.endpoint],
            speech_seconds=listen.speech_seconds,
            pre_roll_seconds=listen.pre_roll_seconds,
            max_seconds=listen.max_seconds,
            speculate_seconds=listen.speculate_seconds,
            onset_window_seconds=ONSET_WINDOW_FACTOR * listen.speech_seconds,
        )
