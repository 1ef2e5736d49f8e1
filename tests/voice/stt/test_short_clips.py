"""Real Whisper on fragments a fifth of a second long: what it invents for them is dropped, and
short words actually spoken are kept."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from koe.config.schema import GuardSettings, SttSettings
from koe.voice.audio.files import SAMPLE_RATE, decode_file
from koe.voice.stt.speech_set import SpeechClip
from koe.voice.stt.transcriber import Transcriber
from koe.voice.stt.wer import normalise

pytestmark = pytest.mark.slow

FRAGMENT_SECONDS = 0.2
OFFSETS = (0.3, 1.0, 1.7)
# Whisper's stock phrases for audio it cannot make out.
INVENTED = ("thank you", "thanks for watching", "see you next time", "bye")


def fragments(speech: list[SpeechClip]) -> list[np.ndarray]:
    out = []
    for clip in speech:
        samples = decode_file(clip.path).samples
        for offset in OFFSETS:
            start = int(offset * SAMPLE_RATE)
            piece = samples[start : start + int(FRAGMENT_SECONDS * SAMPLE_RATE)]
            if len(piece) == int(FRAGMENT_SECONDS * SAMPLE_RATE):
                out.append(piece)
    return out


def heard(transcriber: Transcriber, samples: np.ndarray) -> str:
    return " ".join(normalise(" ".join(s.text for s in transcriber.transcribe(samples).segments)))


def without_short_clip_rule(transcriber: Transcriber) -> Transcriber:
    guards = GuardSettings(short_clip_seconds=0.0, max_syllables_per_second=1e6)
    stt = transcriber.stt.model_copy(update={"guards": guards})
    return Transcriber(transcriber.model, transcriber.resolved, stt, transcriber.language)


def test_fragments_of_real_speech_are_not_invented_into_phrases(
        transcriber: Transcriber, speech: list[SpeechClip]) -> None:
    pieces = fragments(speech)
    guarded = [heard(transcriber, p) for p in pieces]
    assert not [t for t in guarded if any(phrase in t for phrase in INVENTED)], guarded
    # Nearly every fragment is too short for a whole word: most give nothing at all ...
    assert sum(t == "" for t in guarded) >= 0.6 * len(pieces), guarded
    # ... while without the rule Whisper fills them with its stock phrases.
    bare = [heard(without_short_clip_rule(transcriber), p) for p in pieces]
    assert [t for t in bare if any(phrase in t for phrase in INVENTED)], bare


def test_a_synthetic_fragment_is_dropped(transcriber: Transcriber) -> None:
    # A fifth of a second of a voiced vowel-like buzz: sound, but no word.
    t = np.arange(int(FRAGMENT_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    buzz = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 700, 1200), 1))
    samples = (0.3 * buzz * np.hanning(len(t))).astype(np.float32)
    assert heard(transcriber, samples) == ""


@pytest.mark.parametrize(("text", "words"), [
    ("Yes.", ["yes"]), ("No.", ["no"]), ("Stop.", ["stop"]),
    ("What time is it?", ["what", "time", "is", "it"]),
])
def test_short_spoken_words_are_kept(transcriber: Transcriber, tmp_path: Path, text: str,
                                     words: list[str]) -> None:
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng) to speak words")
    wav = tmp_path / "word.wav"
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(wav), text], check=True)
    samples = decode_file(wav).samples
    voiced = np.nonzero(np.abs(samples) > 0.02)[0]
    word = samples[voiced[0] : voiced[-1] + 1]
    # As the voice loop hands it over when it answers at a pause: its pre-roll before the
    # word, and the first 0.15 s of silence after it.
    utterance = np.concatenate([np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32), word,
                                np.zeros(int(0.15 * SAMPLE_RATE), dtype=np.float32)])
    if len(utterance) < GuardSettings().short_clip_seconds * SAMPLE_RATE:
        assert heard(transcriber, utterance).split() == words
    # A file holding nothing but the word is kept too.
    assert heard(transcriber, word).split() == words


def test_the_rule_reads_the_configured_guards() -> None:
    assert SttSettings().guards.short_clip_seconds > FRAGMENT_SECONDS
