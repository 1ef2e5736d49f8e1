"""The sound devices PortAudio sees, and the one a setting names (an index or part of a name)."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from koe.config.errors import AudioError

Direction = Literal["input", "output"]
_ROLE = {"input": "microphone", "output": "speaker"}
_SETTING = {"input": "audio.input_device", "output": "audio.output_device"}


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    host_api: str
    input_channels: int
    output_channels: int
    sample_rate: int  # the device's own (default) rate
    default_input: bool = False
    default_output: bool = False

    def channels(self, direction: Direction) -> int:
        return self.input_channels if direction == "input" else self.output_channels

    def label(self) -> str:
        return f"{self.index} '{self.name}'"


def portaudio() -> ModuleType:
    """The `sounddevice` module, or an AudioError when the PortAudio library is missing."""
    try:
        import sounddevice
    except OSError as exc:
        raise AudioError("PortAudio library not found; koe cannot use sound devices",
                         "install it: apt-get install libportaudio2 (or your system's "
                         "portaudio package)") from exc
    return sounddevice


def rescan() -> None:
    """Make PortAudio look again for devices (plugged in since, or a sound server started).

    Only while no stream is open: PortAudio closes every stream when it restarts.
    """
    sd = portaudio()
    sd._terminate()
    sd._initialize()


def close_stream(stream: Any) -> None:
    """Stop and close a PortAudio stream at once, even one whose device has gone."""
    try:
        stream.abort()
    except portaudio().PortAudioError:
        pass  # the device is already gone; closing still frees the stream
    finally:
        stream.close()


def list_devices() -> list[AudioDevice]:
    sd = portaudio()
    hostapis = [api["name"] for api in sd.query_hostapis()]
    default_in, default_out = _default_indices(sd)
    return [
        AudioDevice(
            index=index,
            name=info["name"],
            host_api=hostapis[info["hostapi"]],
            input_channels=int(info["max_input_channels"]),
            output_channels=int(info["max_output_channels"]),
            sample_rate=round(info["default_samplerate"]),
            default_input=index == default_in,
            default_output=index == default_out,
        )
        for index, info in enumerate(sd.query_devices())
    ]


def find_device(spec: str | int, direction: Direction,
                devices: list[AudioDevice] | None = None) -> AudioDevice:
    """The device `spec` names: "" the default, an index, or a case-insensitive part of a name.

    A name that equals a device's whole name wins over devices that merely contain it.
    """
    devices = list_devices() if devices is None else devices
    role = _ROLE[direction]
    usable = [d for d in devices if d.channels(direction) > 0]
    if not usable:
        raise AudioError(f"no {role} found",
                         f"connect a {role}; on a machine with no sound card, "
                         "scripts/virtual-audio.sh start gives virtual ones")
    text = str(spec).strip()
    if text == "":
        return _default(usable, direction)
    if text.isdigit():
        return _by_index(int(text), devices, direction)
    wanted = text.casefold()
    exact = [d for d in usable if d.name.casefold() == wanted]
    matches = exact or [d for d in usable if wanted in d.name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AudioError(f"{direction} device '{text}' not found; `koe devices` lists them",
                         f"set {_SETTING[direction]} to a name or index that `koe devices` "
                         "shows, or to \"\" for the default")
    names = ", ".join(d.label() for d in matches[:5])
    raise AudioError(f"{direction} device '{text}' matches {len(matches)} devices: {names}",
                     f"set {_SETTING[direction]} to a longer part of the name, or an index")


def _default(usable: list[AudioDevice], direction: Direction) -> AudioDevice:
    for device in usable:
        if device.default_input if direction == "input" else device.default_output:
            return device
    return usable[0]  # PortAudio names no default: the first that can do the job


def _by_index(index: int, devices: list[AudioDevice], direction: Direction) -> AudioDevice:
    found = next((d for d in devices if d.index == index), None)
    if found is None:
        raise AudioError(f"{direction} device {index} not found; `koe devices` lists them",
                         f"set {_SETTING[direction]} to an index that `koe devices` shows")
    if found.channels(direction) == 0:
        raise AudioError(f"device {found.label()} has no {direction} channels",
                         f"pick a {_ROLE[direction]} from `koe devices`")
    return found


def _default_indices(sd: ModuleType) -> tuple[int, int]:
    try:
        default_in, default_out = sd.default.device
    except (TypeError, ValueError):
        return -1, -1
    return _as_index(sd, default_in, "input"), _as_index(sd, default_out, "output")


def _as_index(sd: ModuleType, value: object, kind: str) -> int:
    if isinstance(value, int):
        return value
    try:  # sd.default.device may have been set to a name
        return int(sd.query_devices(value, kind)["index"])
    except (ValueError, sd.PortAudioError):
        return -1
