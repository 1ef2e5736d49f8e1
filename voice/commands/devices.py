"""`koe devices`: the microphones and speakers koe can use, and which ones it would pick."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from koe.voice.audio.devices import AudioDevice, Direction


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "devices", help="list microphones and speakers",
        description="List the sound devices PortAudio sees: index, name, channels and native "
        "sample rate; * marks the system defaults. Set audio.input_device / audio.output_device "
        "to an index or part of a name.")
    p.add_argument("--json", action="store_true",
                   help="a JSON object: every device, and the ones the settings pick")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from koe.config.errors import AudioError
    from koe.voice.audio.devices import list_devices

    devices = list_devices()
    if not devices:
        raise AudioError("no sound devices found",
                         "connect a microphone and a speaker; on a machine with no sound card, "
                         "scripts/virtual-audio.sh start gives virtual ones")
    chosen = _chosen(args.config, devices)
    if args.json:
        print(json.dumps({"devices": [asdict(d) for d in devices],
                          "selected": chosen}, indent=2))
        return 0
    width = max(len(d.name) for d in devices)
    for direction, title in (("input", "Input devices (microphones)"),
                             ("output", "Output devices (speakers)")):
        print(f"{title}:")
        for device in devices:
            if device.channels(direction) > 0:
                print(_line(device, direction, width))
    print("* system default")
    for direction, picked in chosen.items():
        print(f"audio.{direction}_device -> {picked}")
    return 0


def _line(device: AudioDevice, direction: Direction, width: int) -> str:
    default = device.default_input if direction == "input" else device.default_output
    return (f"  {'*' if default else ' '} {device.index:>3}  {device.name:<{width}}  "
            f"{device.channels(direction):>2} ch  {device.sample_rate:>6} Hz  {device.host_api}")


def _chosen(config: str | None, devices: list[AudioDevice]) -> dict[str, str]:
    """What audio.input_device / audio.output_device resolve to, or why they don't."""
    from koe.config.errors import KoeError
    from koe.config.loader import load_settings
    from koe.voice.audio.devices import find_device

    try:
        audio = load_settings(config).audio
    except KoeError as exc:
        return {"input": f"settings not read: {exc}", "output": f"settings not read: {exc}"}
    chosen = {}
    for direction, spec in (("input", audio.input_device), ("output", audio.output_device)):
        try:
            device = find_device(spec, direction, devices)
            chosen[direction] = f"{device.index} {device.name}" + ("" if spec else " (default)")
        except KoeError as exc:
            chosen[direction] = f"error: {exc}"
    return chosen
