"""Virtual sound devices for the audio tests: a private PulseAudio server for this test run.

The server is started here, under this run's temporary folder, and stopped at the end: a
server shared with other runs could be stopped by one of them in the middle of ours.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.voice.audio.instruments import VirtualAudio, start_virtual_audio


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
