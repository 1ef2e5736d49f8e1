"""koe's own voice heard back: an utterance made of words koe has just said is its echo.

The echo canceller removes koe's voice from the microphone nearly always, but when it loses
the room for a moment (measured on the virtual devices under load: a few hundred ms at the
start or end of a reply), the leak can be loud enough to be heard as speech, and Whisper then
writes koe's own words ("You're welcome."). Such an utterance is not a question: it is dropped
before anything is answered or stored.

The test is on words, in order: the longest run of the utterance's words that koe said in a row,
in what it said from a while before the utterance began until just after. People do repeat
koe's words, but rarely most of an utterance of several words within seconds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from koe.voice.stt.wer import normalise

BEFORE_SECONDS = 20.0  # words said this long before the utterance began can still be heard
AFTER_SECONDS = 1.0  # (an utterance can begin just before the chunk it echoes was noted)
MIN_WORDS = 2  # a single word ("okay") is too common to call
MIN_SHARE = 0.6  # this much of the utterance, in a row, said by koe: its echo


@dataclass
class OwnVoice:
    _said: deque[tuple[float, list[str]]] = field(default_factory=deque)

    def said(self, text: str, at: float) -> None:
        """koe started playing `text` at `at` (the loop's stream clock)."""
        self._said.append((at, normalise(text)))
        while self._said and self._said[0][0] < at - BEFORE_SECONDS - AFTER_SECONDS:
            self._said.popleft()

    def is_echo(self, transcript: str, began: float) -> bool:
        """Whether `transcript`, heard from `began`, is koe's own recent words."""
        words = normalise(transcript)
        if len(words) < MIN_WORDS:
            return False
        said = [w for at, chunk in self._said
                if began - BEFORE_SECONDS <= at <= began + AFTER_SECONDS for w in chunk]
        return _longest_common_run(words, said) >= MIN_SHARE * len(words)


def _longest_common_run(a: list[str], b: list[str]) -> int:
    best = 0
    previous = [0] * (len(b) + 1)
    for word in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if word == other else 0)
        best = max(best, max(current))
        previous = current
    return best
