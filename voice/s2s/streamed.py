"""A reply whose voice comes from the endpoint: its transcript and audio arrive as deltas.

It plays in the voice loop exactly like koe's own spoken reply (`SpokenReply`): the question
is drafted (memories recalled) and stored when the loop confirms it, the audio is queued as it
arrives, and the reply is kept as heard. What was heard is worked out from the transcript laid
evenly over the whole reply's audio, so a cut-off reply keeps the words played before the cut.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import numpy as np

from koe.voice.assistant.reply import DraftedReply
from koe.voice.conversation.conversation import Conversation, Draft
from koe.voice.tts.chunk import SpokenChunk

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Delta:
    """A piece of the reply: transcript text and/or audio (int16 mono at `rate`)."""

    text: str = ""
    pcm: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    rate: int = 24000


@dataclass
class Script:
    """The reply's whole transcript and how much audio it has so far."""

    text: str = ""
    samples: int = 0

    def words_between(self, start: int, end: int) -> str:
        """The words whose last letter falls in audio samples (start, end]."""
        if not self.text or self.samples <= 0 or end <= start:
            return ""
        size = len(self.text)  # whole numbers: the last word ends exactly at the last sample
        return " ".join(w.group() for w in _WORD.finditer(self.text)
                        if start * size < w.end() * self.samples <= end * size)


@dataclass(frozen=True, eq=False)
class StreamedChunk(SpokenChunk):
    """A piece of the endpoint's audio; what it made heard comes from the shared script."""

    script: Script = field(default_factory=Script, repr=False)
    offset: int = 0  # samples of the reply before this one

    def heard(self, seconds_played: float) -> str:
        played = min(self.samples, round(seconds_played * self.sample_rate))
        return self.script.words_between(self.offset, self.offset + played)


class StreamedReply(DraftedReply):
    """The Reply protocol over a stream of deltas; `stream(draft, pcm)` makes them."""

    def __init__(self, conversation: Conversation, clock: Callable[[], float]) -> None:
        super().__init__(conversation, clock)
        self.script = Script()
        self._heard = np.zeros(0, dtype=np.int16)  # the user's utterance

    def start(self, question: str, pcm: np.ndarray) -> StreamedReply:
        self._heard = pcm
        self._begin(question)
        return self

    def stream(self, draft: Draft, pcm: np.ndarray) -> AsyncIterator[Delta]:
        raise NotImplementedError

    async def _speak(self, draft: Draft) -> None:
        new_text = ""
        async for delta in self.stream(draft, self._heard):
            self._token_arrived()
            draft.outcome.reply += delta.text
            self.script.text += delta.text
            new_text += delta.text  # shown with the next piece of audio
            if delta.pcm.size:
                chunk = StreamedChunk(new_text, delta.pcm, delta.rate, self.script,
                                      self.script.samples)
                self.script.samples += delta.pcm.size
                new_text = ""
                await self.chunks.put(chunk)


def memory_block_of(draft: Draft) -> str:
    """The memories the draft quotes, as the block shown to the model ("" for none)."""
    message, question = draft.pending.user_message, draft.outcome.question
    return message[: -len(question)].strip() if message.endswith(question) else ""
