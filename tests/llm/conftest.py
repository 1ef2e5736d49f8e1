"""Real servers for the LLM tests: llama.cpp with the packaged models, and a fault server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from config.schema import LlmSettings, LocalLlmSettings
from voice.llm_models import GEMMA_270M, QWEN, assemble
from voice.llm_server import LocalServer

from .fault_server import FaultServer, running_fault_server

# Gemma 3 270M is a base model without a chat template of its own: ChatML gives it turns.
GEMMA_TEMPLATE = "chatml"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llm-models")


@pytest.fixture(scope="session")
def gemma_path(models_dir: Path) -> Path:
    return assemble(GEMMA_270M, models_dir)


@pytest.fixture(scope="session")
def qwen_path(models_dir: Path) -> Path:
    return assemble(QWEN, models_dir)


def gemma_settings(gemma_path: Path, **llm: object) -> LlmSettings:
    local = LocalLlmSettings(model=str(gemma_path), context_size=2048,
                             chat_template=GEMMA_TEMPLATE)
    return LlmSettings(local=local, **llm)


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


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    with running_fault_server() as server:
        yield server


def read_until(stream: IO[str], marker: str, count: int) -> bool:
    """Read `stream` until `marker` was seen `count` times (in a thread: reads block)."""
    seen = threading.Event()

    def read() -> None:
        text = ""
        while (ch := stream.read(1)):
            text += ch
            if text.count(marker) >= count:
                seen.set()
                return
    threading.Thread(target=read, daemon=True).start()
    return seen.wait(120)
