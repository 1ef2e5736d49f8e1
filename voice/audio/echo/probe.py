"""`koe doctor --echo`: play a test signal on the speaker while recording the microphone, and
measure the echo path: its delay, how loud it comes back, and what the canceller removes.

Works with any speaker and microphone pair that share a FarEnd (device or file mode), so the
same measure runs on real devices, virtual ones and in a file-mode room.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np

from koe.config.errors import AudioError
from koe.config.schema import AudioSettings
from koe.voice.audio.chunks import AudioSink, AudioSource, Played
from koe.voice.audio.echo.canceller import FIND_MS, EchoCanceller, open_canceller
from koe.voice.audio.echo.farend import FarEnd
from koe.voice.audio.echo.measure import EchoFigures, echo_figures
from koe.voice.audio.files import SAMPLE_RATE

LEAD_SECONDS = 0.5  # of silence first: the room's noise, and the speaker's clock settling
SWEEP_SECONDS = 1.0  # a sweep up: its echo lines up with it at one delay only
GAP_SECONDS = 0.2
NOISE_SECONDS = 3.0  # then noise in syllable-like bursts for the ERLE: AEC3 removes broadband
# sound such as speech, but a lone sweeping tone by only 6-8 dB (measured), so a sweep can't
SETTLE_SECONDS = 1.0  # of the noise left out of the ERLE: the canceller learns the room
TAIL_SECONDS = 1.2  # listened to after the signal: the longest echo delay looked for, and some
LOW_HZ, HIGH_HZ = 150.0, 3800.0  # what any speaker plays and any 16 kHz path carries
AMPLITUDE = 0.3  # -10 dBFS peak: clearly heard, not loud
STALL_SECONDS = 10.0  # a microphone that gives nothing for this long fails the probe


@dataclass(frozen=True)
class EchoReport:
    figures: EchoFigures
    engine: str  # the canceller measured

    def describe(self) -> str:
        f = self.figures
        if f.delay_ms is None:
            return (f"no echo of the test signal heard (correlation {f.correlation:.2f}, "
                    f"microphone noise {f.noise_db:.0f} dBFS)")
        said = (f"echo {f.delay_ms:.0f} ms after playback, {f.return_loss_db:.1f} dB below it "
                f"(echo return loss); the {self.engine} canceller removes "
                f"{f.erle_db:.1f} dB more (ERLE)")
        if f.delay_ms > FIND_MS - 50:  # near or past what AEC3 finds by itself
            said += (f"; that is near or past the ~{FIND_MS} ms the canceller follows by "
                     "itself: expect echo to get through unless it is given the delay")
        return said


def test_signal(rate: int = SAMPLE_RATE) -> tuple[np.ndarray, int]:
    """The probe's signal (int16), and where its noise part starts."""
    t = np.arange(round(SWEEP_SECONDS * rate)) / rate
    k = np.log(HIGH_HZ / LOW_HZ)  # logarithmic: as long in each octave
    up = np.sin(2 * np.pi * LOW_HZ * SWEEP_SECONDS / k * (np.exp(t * k / SWEEP_SECONDS) - 1))
    noise = np.random.default_rng(0).standard_normal(round(NOISE_SECONDS * rate))
    spectrum = np.fft.rfft(noise)
    spectrum[np.fft.rfftfreq(len(noise), 1 / rate) > HIGH_HZ] = 0
    noise = np.fft.irfft(spectrum, len(noise))
    syllables = np.abs(np.sin(np.pi * 4.0 * np.arange(len(noise)) / rate))  # 4 a second
    noise = noise * syllables / np.max(np.abs(noise))
    gap = np.zeros(round(GAP_SECONDS * rate))
    signal = np.concatenate([_faded(up, rate), gap, noise])
    return (AMPLITUDE * 32767 * signal).astype(np.int16), len(up) + len(gap)


def _faded(x: np.ndarray, rate: int) -> np.ndarray:
    ramp = np.minimum(1.0, np.minimum(np.arange(len(x)), np.arange(len(x))[::-1]) / (0.01 * rate))
    return x * ramp


async def probe_echo(microphone: AudioSource, speaker: AudioSink, far: FarEnd,
                     canceller: EchoCanceller) -> EchoReport:
    """Play the test signal on `speaker` (which writes to `far`) and measure what `microphone`
    hears; both are opened and closed here."""
    signal, noise_at = test_signal()
    start = round(LEAD_SECONDS * SAMPLE_RATE)
    tail = round(TAIL_SECONDS * SAMPLE_RATE)
    heard, played, cleaned = [], [], []
    async with speaker, microphone:
        playing: asyncio.Future[Played] | None = None
        stop: int | None = None
        async with asyncio.timeout(STALL_SECONDS + (start + len(signal) + tail) / SAMPLE_RATE):
            async for chunk in microphone.chunks():
                speaker.sync(chunk.end)
                heard.append(chunk.pcm)
                # What the canceller is given for this chunk, read as it reads it.
                played.append(far.read_int16(chunk.position, len(chunk.pcm)))
                cleaned.append(canceller.near(chunk).pcm)
                if playing is None and chunk.end >= start:
                    playing = speaker.play(signal, SAMPLE_RATE, tag="echo probe")
                if stop is None and playing is not None and playing.done():
                    stop = chunk.end + tail  # the echo may come up to a second later
                if stop is not None and chunk.end >= stop:
                    break
        if stop is None or playing is None:
            raise AudioError("the microphone stopped before the echo probe's signal was played",
                             "check audio.input_device with `koe devices`")
    reference, mic = np.concatenate(played), np.concatenate(heard)
    sounding = np.flatnonzero(reference)
    first = int(sounding[0]) if sounding.size else start
    settled = first + noise_at + round(SETTLE_SECONDS * SAMPLE_RATE)
    figures = echo_figures(reference, mic, np.concatenate(cleaned),
                           (first, first + len(signal)), (settled, first + len(signal)))
    return EchoReport(figures, canceller.engine)


async def probe_devices(settings: AudioSettings, engine: str = "auto") -> EchoReport:
    """The probe on the configured microphone and speaker."""
    from koe.voice.audio.microphone import Microphone
    from koe.voice.audio.speaker import Speaker

    far = FarEnd()
    canceller = open_canceller(far, engine, mark_leaks=False)
    return await probe_echo(Microphone.from_settings(settings),
                            Speaker.from_settings(settings, far=far), far, canceller)
