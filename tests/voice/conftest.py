"""Real llama.cpp servers for the voice tests, with the packaged models (assembled once a run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from koe.config.schema import LocalLlmSettings
from koe.voice.llm.models import GEMMA_270M, QWEN, assemble
from koe.voice.llm.server import LocalServer
from tests.voice.llm.helpers import gemma_settings


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llm-models")


@pytest.fixture(scope="session")
def gemma_path(models_dir: Path) -> Path:
    return assemble(GEMMA_270M, models_dir)


@pytest.fixture(scope="session")
def qwen_path(models_dir: Path) -> Path:
    return assemble(QWEN, models_dir)


@pytest.fixture(scope="session")
def gemma_server(gemma_path: Path, models_dir: Path) -> Iterator[LocalServer]:
    """One Gemma server for the plumbing tests that do not stop or kill it."""
    server = LocalServer(gemma_settings(gemma_path).local, log_path=models_dir / "gemma.log")
    with server:
        yield server


@pytest.fixture(scope="session")
def qwen_server(qwen_path: Path, models_dir: Path) -> Iterator[LocalServer]:
    server = LocalServer(LocalLlmSettings(model=str(qwen_path), context_size=2048),
                         log_path=models_dir / "qwen.log")
    with server:
        yield server
