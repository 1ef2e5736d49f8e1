"""Virtual sound devices for trying and measuring koe without a sound card: a private
PulseAudio server with a null-sink speaker and microphone (scripts/virtual-audio.sh in a
checkout), an optional echo path from the speaker back into the microphone, a recorder of
what koe played and an injector of what a user says.

The recorder and injector are PulseAudio's own tools (parec, pactl), independent of koe's audio
code: tests and benchmarks use them to hear koe from outside.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from koe.voice.audio.wav import write_wav

RATE = 16_000  # what the recorder and injector use
# The virtual speaker's monitor and the microphone's feed, as scripts/virtual-audio.sh names them.
SPEAKER_MONITOR = "vspk.monitor"
MICROPHONE_FEED = "vmic_feed"


@dataclass(frozen=True)
class VirtualAudio:
    root: Path
    script: Path  # scripts/virtual-audio.sh
    env: dict[str, str]  # what a client exports to use this server

    def client_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def stop(self) -> None:
        """Stop the server (its devices vanish, as an unplugged headset does). Idempotent."""
        subprocess.run([str(self.script), "stop"], env={**os.environ, "PA_ROOT": str(self.root)},
                       capture_output=True, timeout=60)


@contextmanager
def start_virtual_audio(root: Path, script: Path) -> Iterator[VirtualAudio]:
    """`script start` (scripts/virtual-audio.sh), with its state under `root`; stopped on exit."""
    env = {**os.environ, "PA_ROOT": str(root)}
    audio = VirtualAudio(root, script, {})
    try:
        started = subprocess.run([str(script), "start"], env=env, capture_output=True,
                                 text=True, timeout=60)
        if started.returncode != 0:
            raise RuntimeError(f"virtual-audio.sh start failed: {started.stderr.strip()}")
        exports = subprocess.run([str(script), "env"], env=env, check=True,
                                 capture_output=True, text=True).stdout
        audio = VirtualAudio(root, script, _parse_exports(exports))
        yield audio
    finally:
        audio.stop()


@contextmanager
def echo_path(audio: VirtualAudio, delay_ms: int, gain: float) -> Iterator[None]:
    """koe hears itself for the `with`: scripts/virtual-audio.sh echo DELAY_MS GAIN, then off."""
    env = {**os.environ, "PA_ROOT": str(audio.root)}
    subprocess.run([str(audio.script), "echo", str(delay_ms), str(gain)], env=env, check=True,
                   capture_output=True, timeout=60)
    try:
        yield
    finally:
        subprocess.run([str(audio.script), "echo", "off"], env=env, capture_output=True, timeout=60)


def _parse_exports(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if words[:1] == ["export"]:
            for word in words[1:]:
                name, _, value = word.partition("=")
                found[name] = value
    return found


class Recorder:
    """parec on a PulseAudio source, 16 kHz mono int16, for as long as the `with` lasts."""

    def __init__(self, source: str, env: dict[str, str]) -> None:
        self.source, self.env = source, env
        self._data = bytearray()

    def __enter__(self) -> Recorder:
        self._proc = subprocess.Popen(
            ["parec", f"--device={self.source}", "--raw", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=10"], stdout=subprocess.PIPE, env=self.env)
        self._started = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # Recording for certain before the test makes a sound: parec can be slow to connect.
        if not self._started.wait(timeout=20):
            self.__exit__()
            raise RuntimeError(f"parec on {self.source} recorded nothing in 20 s")
        return self

    def _read(self) -> None:
        assert self._proc.stdout is not None
        while chunk := self._proc.stdout.read1(65536):
            self._data.extend(chunk)
            self._started.set()

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._reader.join(timeout=10)

    def samples(self) -> np.ndarray:
        whole = len(self._data) - len(self._data) % 2
        return np.frombuffer(bytes(self._data[:whole]), dtype="<i2").astype(np.int16)


async def inject(sink: str, pcm: np.ndarray, env: dict[str, str]) -> None:
    """Start playing 16 kHz int16 `pcm` into a PulseAudio sink; returns once it has started.

    The server plays it from its own sample cache: no client can fall behind and leave gaps,
    as pacat does on a busy machine.
    """
    name = f"koe-test-{uuid.uuid4().hex}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "signal.wav"
        write_wav(path, pcm.astype(np.int16), RATE)
        await _pactl(env, "upload-sample", str(path), name)
    await _pactl(env, "play-sample", name, sink)


async def _pactl(env: dict[str, str], *args: str) -> None:
    proc = await asyncio.create_subprocess_exec("pactl", *args, env=env,
                                                stderr=subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"pactl {args[0]} failed: {err.decode().strip()}")
