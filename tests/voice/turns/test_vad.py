"""VAD framing through the real webrtcvad: chunking, input checks, the rumble filter, the
level check."""

from __future__ import annotations

import numpy as np
import pytest

from koe.voice.turns.highpass import HighPass
from koe.voice.turns.level import LevelGate
from koe.voice.turns.pcm import PcmWindow, as_pcm_bytes
from koe.voice.turns.vad import VadFramer
from tests.voice.turns.signals import SR, click, room, silence


def voiced_tone(seconds: float) -> np.ndarray:
    """A harmonic buzz with a syllable-rate wobble: enough like a vowel for webrtcvad."""
    t = np.arange(round(seconds * SR)) / SR
    buzz = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 20))
    return (0.2 * buzz * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)


STREAM = room(silence(0.5), voiced_tone(1.0), silence(0.5), click(30), silence(0.5))


def verdicts(framer: VadFramer, pcm: np.ndarray | bytes) -> list[tuple[bytes, bool]]:
    return [(f.pcm, f.is_speech) for f in framer.frames(pcm)]


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_frames_are_whole_and_keep_the_original_audio(frame_ms: int) -> None:
    framer = VadFramer(2, frame_ms)
    frames = framer.frames(STREAM)
    assert all(f.samples == SR * frame_ms // 1000 for f in frames)
    assert len(frames) == len(STREAM) // framer.frame_samples
    joined = b"".join(f.pcm for f in frames)
    assert joined == STREAM[: len(joined) // 2].tobytes()  # not the filtered copy
    assert framer.pending_samples == len(STREAM) % framer.frame_samples


def test_the_voiced_tone_is_speech_and_the_quiet_is_not() -> None:
    frames = VadFramer(2, 30).frames(STREAM)
    flags = [f.is_speech for f in frames]
    tone = slice(round(0.6 / 0.03), round(1.4 / 0.03))
    assert all(flags[tone])
    assert not any(flags[: round(0.45 / 0.03)])


def test_any_chunking_gives_the_same_frames() -> None:
    whole = verdicts(VadFramer(2, 30), STREAM)
    rng = np.random.default_rng(11)
    framer = VadFramer(2, 30)
    chunked: list[tuple[bytes, bool]] = []
    raw = STREAM.tobytes()
    pos = 0
    while pos < len(raw):
        size = int(rng.choice([0, 1, 3, 479, 480, 481, 1000, 4097]))  # odd byte counts too
        chunked += verdicts(framer, raw[pos : pos + size])
        pos += size
    assert chunked == whole


def test_bytes_and_arrays_of_either_byte_order_are_the_same_input() -> None:
    as_array = verdicts(VadFramer(), STREAM)
    assert verdicts(VadFramer(), STREAM.tobytes()) == as_array
    assert verdicts(VadFramer(), STREAM.astype(">i2")) == as_array
    assert verdicts(VadFramer(), memoryview(STREAM.tobytes())) == as_array


@pytest.mark.parametrize("bad", [np.zeros(480, np.float32), np.zeros(480, np.int32),
                                 np.zeros((480, 2), np.int16)])
def test_wrong_sample_formats_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        VadFramer().frames(bad)


def test_something_that_is_not_audio_is_refused() -> None:
    with pytest.raises(TypeError):
        as_pcm_bytes([0, 1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(("aggressiveness", "frame_ms"), [(4, 30), (-1, 30), (2, 25), (2, 40)])
def test_settings_webrtcvad_cannot_take_are_refused(aggressiveness: int, frame_ms: int) -> None:
    with pytest.raises(ValueError):
        VadFramer(aggressiveness, frame_ms)


def test_reset_drops_the_partial_frame_and_starts_webrtcvad_afresh() -> None:
    framer = VadFramer(2, 30)
    first = verdicts(framer, STREAM[:1000])
    assert framer.pending_samples == 1000 - 960
    framer.reset()
    assert framer.pending_samples == 0
    # Nothing left over from before: the same audio frames the same way again.
    assert verdicts(framer, STREAM[:1000]) == first


def tone(hz: float, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return (amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(x.astype(np.float64) ** 2))


def filtered(signal: np.ndarray, frame: int = 480) -> np.ndarray:
    hp = HighPass()
    return np.concatenate([hp(signal[i : i + frame]) for i in range(0, len(signal), frame)])


def test_highpass_removes_rumble_and_keeps_the_voice_band() -> None:
    for hz, least, most in ((50, -60, -30), (70, -60, -25), (1000, -0.2, 0.2), (300, -1, 0.2)):
        signal = tone(hz)
        out = filtered(signal)[SR // 4 :]  # past the filter's settling
        change = rms_db(out) - rms_db(signal[SR // 4 :])
        assert least < change < most, (hz, change)


def test_highpass_streams_like_one_long_filter() -> None:
    signal = STREAM
    assert np.array_equal(filtered(signal, 480), filtered(signal, 160))


def test_level_gate_passes_sound_above_the_floor_and_not_the_floor_itself() -> None:
    gate = LevelGate(480)
    quiet = room(silence(1.0), noise_db=-70)
    loud = room(voiced_tone(0.3), noise_db=-70)
    for i in range(0, len(quiet) - 479, 480):
        gate.loud_enough(gate.level_db(quiet[i : i + 480]))
    floor = gate.floor_db()
    assert floor is not None and -90 < floor < -60
    frame = quiet[:480]
    assert not gate.loud_enough(gate.level_db(frame))
    assert gate.loud_enough(gate.level_db(loud[2400:2880]))


def test_level_of_digital_silence_is_finite() -> None:
    gate = LevelGate(480)
    assert gate.level_db(np.zeros(480, np.int16)) == -120.0


def test_level_of_a_full_scale_tone_in_band_is_about_minus_3_db() -> None:
    gate = LevelGate(480)
    level = gate.level_db(tone(1000, 0.03, 1.0))
    assert -4.0 < level < -2.0


def test_pcm_window_slices_by_stream_position() -> None:
    window = PcmWindow(start=1000)
    window.append(np.arange(100, dtype=np.int16).tobytes())
    assert window.end == 1100
    assert window.slice(1010, 1013).tolist() == [10, 11, 12]
    assert window.slice(900, 1002).tolist() == [0, 1]  # clamped to what is held
    window.drop_before(1050)
    assert window.start == 1050 and window.slice(0, 10**9)[0] == 50
    assert not window.slice(1060, 1061).flags.writeable
    window.clear(5000)
    assert window.start == window.end == 5000
