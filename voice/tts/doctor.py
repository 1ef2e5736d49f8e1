"""`koe doctor` check for speech out: the configured Piper voice loads and speaks."""

from __future__ import annotations

from collections.abc import Iterator

from koe.config.checks import Check
from koe.config.errors import KoeError
from koe.config.schema import Settings


def tts_checks(settings: Settings) -> Iterator[Check]:
    from koe.voice.tts.synthesizer import PiperSynthesizer

    label = f"tts voice {settings.tts.voice}"
    try:
        synthesizer = PiperSynthesizer.load(settings.tts)
        samples = sum(len(pcm) for pcm in synthesizer.synthesize("Hello."))
    except KoeError as exc:
        yield Check(label, False, exc.message, exc.hint)
        return
    if not samples:
        yield Check(label, False, "the voice loaded but said nothing",
                    "the voice's .onnx.json may not match its .onnx: download both again")
        return
    yield Check(label, True, f"{synthesizer.files.name}, {synthesizer.sample_rate} Hz, "
                f"speed {settings.tts.speed:g}")
