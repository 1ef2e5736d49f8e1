"""Finding devices by index or name, clear one-line errors, and `koe devices`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from koe.config.errors import AudioError
from koe.config.schema import AudioSettings
from koe.voice.audio.devices import AudioDevice, find_device, list_devices
from koe.voice.audio.microphone import Microphone
from koe.voice.audio.speaker import Speaker
from koe.voice.audio.virtual import VirtualAudio

VIRTUAL = {"vspk", "vspk_monitor", "vmic", "vmic_feed"}


def _device(index: int, name: str, inputs: int, outputs: int) -> AudioDevice:
    return AudioDevice(index, name, "ALSA", inputs, outputs, 48000)


def test_lists_the_virtual_devices(virtual_audio: VirtualAudio) -> None:
    devices = list_devices()
    assert {d.name for d in devices} >= VIRTUAL
    for device in devices:
        assert device.sample_rate > 0 and device.host_api
    assert sum(d.default_input for d in devices) == 1
    assert sum(d.default_output for d in devices) == 1


def test_finds_by_name_part_index_or_default(virtual_audio: VirtualAudio) -> None:
    devices = list_devices()
    # A whole name wins over longer names that contain it (vmic_feed), whatever the case.
    assert find_device("VMIC", "input").name == "vmic"
    assert find_device("spk_mon", "input").name == "vspk_monitor"
    vspk = find_device("vspk", "output")
    assert find_device(str(vspk.index), "output") == vspk
    assert find_device("", "input").default_input
    assert find_device("", "output") == next(d for d in devices if d.default_output)


def test_unknown_names_and_indices_are_one_line_errors(virtual_audio: VirtualAudio) -> None:
    with pytest.raises(AudioError) as caught:
        find_device("no such device", "output")
    assert str(caught.value) == "output device 'no such device' not found; `koe devices` lists them"
    assert "audio.output_device" in caught.value.hint
    with pytest.raises(AudioError, match=r"input device 9999 not found"):
        find_device("9999", "input")
    with pytest.raises(AudioError, match=r"'v' matches \d+ devices: "):
        find_device("v", "input")
    # Through the settings, as `koe run` opens them.
    with pytest.raises(AudioError, match=r"^input device 'headset' not found") as caught:
        Microphone.from_settings(AudioSettings(input_device="headset"))
    assert "\n" not in str(caught.value)
    with pytest.raises(AudioError, match=r"^output device 'headset' not found"):
        Speaker.from_settings(AudioSettings(output_device="headset"))


def test_no_device_of_a_kind() -> None:
    only_speakers = [_device(0, "speaker", 0, 2)]
    with pytest.raises(AudioError, match=r"^no microphone found$"):
        find_device("", "input", only_speakers)
    with pytest.raises(AudioError, match="has no input channels"):
        find_device("0", "input", [_device(0, "speaker", 0, 2), _device(1, "mic", 1, 0)])
    # No default named by PortAudio: the first device that can do the job.
    assert find_device("", "input", [*only_speakers, _device(1, "mic", 1, 0)]).name == "mic"


def _koe(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "koe.voice", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_koe_devices_lists_them(virtual_audio: VirtualAudio) -> None:
    env = virtual_audio.client_env()
    result = _koe(["devices"], env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    inputs = lines[lines.index("Input devices (microphones):") + 1 :
                   lines.index("Output devices (speakers):")]
    assert {word for line in inputs for word in line.split()} >= VIRTUAL
    assert any(line.lstrip().startswith("*") for line in inputs)
    assert "44100 Hz" in result.stdout or "48000 Hz" in result.stdout
    assert "audio.input_device -> " in result.stdout

    listed = json.loads(_koe(["devices", "--json"], env).stdout)
    assert {d["name"] for d in listed["devices"]} >= VIRTUAL
    assert {"index", "host_api", "input_channels", "output_channels",
            "sample_rate", "default_input", "default_output"} <= set(listed["devices"][0])


def test_koe_devices_says_what_a_bad_setting_picks(virtual_audio: VirtualAudio) -> None:
    env = {**virtual_audio.client_env(), "KOE_AUDIO_INPUT_DEVICE": "vmic_f",
           "KOE_AUDIO_OUTPUT_DEVICE": "headset"}
    result = _koe(["devices"], env)
    assert result.returncode == 0, result.stderr
    assert "audio.input_device -> " in result.stdout and " vmic_feed" in result.stdout
    assert "audio.output_device -> error: output device 'headset' not found" in result.stdout


def test_koe_devices_without_a_sound_server(virtual_audio: VirtualAudio) -> None:
    env = virtual_audio.client_env()
    env["PULSE_SERVER"] = f"unix:{virtual_audio.root}/no-server-here"
    env.pop("ALSA_CONFIG_PATH", None)
    result = _koe(["devices"], env)
    if result.returncode == 0:
        pytest.skip("this machine has sound devices of its own")
    assert result.returncode == 1
    assert result.stderr.startswith("koe: error: no sound devices found\n")
    assert "Traceback" not in result.stderr
