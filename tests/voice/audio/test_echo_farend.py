"""The far end: played audio on the microphone's timeline, and how a device speaker's blocks
get there (the input clock, the tap)."""

from __future__ import annotations

import numpy as np

from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.tap import DeviceTap, InputClock
from tests.voice.audio.instruments import RATE, align, chirp, pcm16


def test_reads_what_was_written_where_it_was_written() -> None:
    far = FarEnd()
    far.write(np.full(100, 1000, dtype=np.int16), 50)
    got = far.read_int16(0, 200)
    assert not got[:50].any() and not got[150:].any()
    assert (got[50:150] == 1000).all()


def test_overlapping_pieces_mix_and_a_cut_removes_what_was_never_heard() -> None:
    far = FarEnd()
    far.write(np.full(100, 0.25, dtype=np.float32), 0)
    far.write(np.full(100, 0.25, dtype=np.float32), 50)
    assert np.allclose(far.read(0, 150)[[10, 60, 120]], [0.25, 0.5, 0.25])
    far.cut(80)  # stopped here: the queued rest of both pieces never played
    assert far.written_to == 80
    assert np.allclose(far.read(0, 150)[[10, 60, 79, 80, 120]], [0.25, 0.5, 0.5, 0, 0])


def test_pieces_written_out_of_order_read_in_place() -> None:
    far = FarEnd()
    far.write(np.full(100, 0.5, dtype=np.float32), 1000)
    far.write(np.full(2000, 0.25, dtype=np.float32), 0)  # earlier, and longer
    got = far.read(900, 300)
    assert np.allclose(got[:100], 0.25) and np.allclose(got[100:200], 0.75)
    assert np.allclose(got[200:], 0.25)


def test_keeps_only_recent_history() -> None:
    far = FarEnd(history=1000)
    for start in range(0, 10_000, 100):
        far.write(np.ones(100, dtype=np.float32), start)
        far.read(start, 100)
    assert not far.read(0, 8000).any()  # long gone
    assert far.read(9000, 1000).all()


def test_input_clock_takes_the_least_delayed_note() -> None:
    clock = InputClock()
    # Chunks of 480 samples reach the loop 20-35 ms after they were recorded.
    delays = [0.035, 0.02, 0.03, 0.025, 0.033]
    for i, late in enumerate(delays):
        end = (i + 1) * 480
        clock.note(end, 100.0 + end / RATE + late)
    assert clock.position_at(100.0 + 1.0) == RATE - round(0.02 * RATE)


def test_input_clock_follows_a_restarted_stream() -> None:
    clock = InputClock()
    clock.note(16_000, 101.0)
    clock.note(16_480, 101.03)
    # The microphone came back 2 s later, counting on from where it was.
    clock.note(16_960, 103.06)
    assert clock.position_at(104.0) == 16_000 + 3 * RATE  # one late note: a busy moment
    clock.note(17_440, 103.09)
    assert clock.position_at(104.0) == 17_440 + round(0.91 * RATE)


def _tap_writing(tap: DeviceTap, signal: np.ndarray, rate: int, first_dac: float,
                 index: int = 0, jitter: float = 0.0) -> None:
    """Queue `signal`, then report it written 10 ms at a time from device frame `index` on,
    the DAC times off by up to `jitter` seconds either way, as PulseAudio's are."""
    for start in range(0, len(signal), rate // 10):  # queued in 100 ms blocks
        tap.queued(signal[start : start + rate // 10])
    noise = np.random.default_rng(0).uniform(-jitter, jitter, len(signal))
    for start in range(0, len(signal), rate // 100):
        tap.wrote(rate // 100, first_dac + start / rate + noise[start], index + start)


def test_tap_lays_device_blocks_on_the_input_timeline() -> None:
    """Blocks at 48 kHz with their DAC times land, at 16 kHz, where the clock puts them."""
    far = FarEnd()
    tap = DeviceTap(far, 48_000)
    tap.sync(8000, 10.5)  # input position 8000 was being recorded at clock 10.5
    _tap_writing(tap, chirp(300.0, 3000.0, 0.5, 48_000, amplitude=0.5), 48_000, 10.7)
    tap.flush()
    lag, similarity = align(far.read_int16(0, 24_000),
                            pcm16(chirp(300.0, 3000.0, 0.5, RATE, amplitude=0.5)))
    assert abs(lag - (8000 + round(0.2 * RATE))) <= 1
    assert similarity > 0.99


def test_tap_keeps_one_placement_through_jittery_dac_times() -> None:
    """DAC times off by up to 5 ms block to block (typical on PulseAudio), and a second
    sentence after a pause: both keep one placement, within that jitter of the true one."""
    far = FarEnd()
    tap = DeviceTap(far, 48_000)
    tap.sync(8000, 10.5)
    sentence = chirp(300.0, 3000.0, 0.5, 48_000, amplitude=0.5)
    _tap_writing(tap, sentence, 48_000, 10.7, index=48_000, jitter=0.005)
    tap.flush()
    # The device played 0.3 s of silence, then the next sentence, continuing its count.
    _tap_writing(tap, sentence, 48_000, 11.5, index=48_000 + 24_000 + 14_400,
                 jitter=0.005)
    tap.flush()
    heard = far.read_int16(0, 40_000)
    reference = pcm16(chirp(300.0, 3000.0, 0.5, RATE, amplitude=0.5))
    first, similarity = align(heard[:20_000], reference)
    second, again = align(heard[first + 8000 :], reference)
    assert similarity > 0.99 and again > 0.99  # no block moved within a sentence
    assert second == 4800  # the pause between them kept exactly
    assert abs(first - (8000 + round(0.2 * RATE))) <= round(0.005 * RATE)


def test_tap_cut_drops_what_the_device_had_buffered() -> None:
    far = FarEnd()
    tap = DeviceTap(far, 16_000)
    tap.sync(0, 0.0)
    tap.queued(np.full(8000, 0.5, dtype=np.float32))
    tap.wrote(8000, 0.1, 0)  # half a second written, from 0.1 s on
    tap.cut(0.3)  # stopped at 0.3 s: 0.2 s of it was heard
    heard = far.read(0, 16_000)
    assert heard[1600:4800].all() and not heard[4800:].any()
