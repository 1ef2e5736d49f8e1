"""Memory fixtures: real chromadb on disk, a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings
from koe.memory.store import MemoryStore
from tests.memory.helpers import running_chroma


@pytest.fixture
def memory_settings(tmp_path: Path) -> MemorySettings:
    return MemorySettings(path=str(tmp_path / "store"), timezone="Europe/Berlin")


@pytest.fixture
def store(memory_settings: MemorySettings) -> Iterator[MemoryStore]:
    with MemoryStore.open(memory_settings) as opened:
        yield opened


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (the chromadb package's own `chroma run`), stopped after."""
    with running_chroma(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url
