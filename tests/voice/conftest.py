"""Real parts for the voice tests: llama.cpp servers with the packaged models (assembled once a
run), and virtual sound devices on a private PulseAudio server for this test run (a server
shared with other runs could be stopped by one of them in the middle of ours)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from koe.config.schema import LocalLlmSettings
from koe.voice.audio.virtual import VirtualAudio
from koe.voice.llm.models import GEMMA_270M, QWEN, assemble
from koe.voice.llm.server import LocalServer
from tests.voice.audio.instruments import start_virtual_audio
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


@pytest.fixture(scope="session")
def virtual_audio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualAudio]:
    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
        pytest.skip("pulseaudio is not installed: apt-get install pulseaudio pulseaudio-utils "
                    "libasound2-plugins (scripts/setup.sh does)")
    # A short folder name: the server's socket path must fit in 108 bytes.
    root = Path(tmp_path_factory.mktemp("pa"))
    saved = {name: os.environ.get(name) for name in ("PULSE_SERVER", "ALSA_CONFIG_PATH")}
    with start_virtual_audio(root) as audio:
        os.environ.update(audio.env)
        from koe.voice.audio.devices import rescan

        rescan()  # PortAudio looks for devices once; make it see these
        try:
            yield audio
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            rescan()  # back to the devices the run had before
