"""Reply text, streamed from the LLM, cut into speakable chunks as early as sound allows.

The first chunk decides how soon the assistant starts talking, so it may end at a clause
("Sure, let me think about that," is worth saying while the rest is generated). Later chunks
play while the next is made, so they end at sentences, and very short sentences ride along
with the next one (a voice reads "Yes. It is." better as one phrase than as two).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from koe.voice.tts.blocks import BlockFilter
from koe.voice.tts.boundaries import Cut, find_cuts
from koe.voice.tts.speakable import speakable_piece, word_count


@dataclass(frozen=True)
class SplitRules:
    first_clause_words: int = 5  # the first chunk may end at a clause once it has this many
    min_words: int = 4  # a later sentence shorter than this waits for the next
    max_words: int = 30  # a later chunk this long ends at its next clause mark


@dataclass
class SentenceSplitter:
    """`feed(delta)` the LLM's text as it streams, `flush()` at the end; both return the
    chunks (clean, speakable text) that are ready. Pure: no I/O, no clock."""

    rules: SplitRules = field(default_factory=SplitRules)
    _blocks: BlockFilter = field(default_factory=BlockFilter, init=False, repr=False)
    _text: str = field(default="", init=False)  # filtered text not yet cut off
    _spoken: int = field(default=0, init=False)  # chunks returned so far

    def feed(self, delta: str) -> list[str]:
        self._text += self._blocks.feed(delta)
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """The reply is complete: everything left, as chunks. The splitter can be reused."""
        self._text += self._blocks.flush()
        chunks = self._drain(final=True)
        chunks += self._take(len(self._text))
        self._blocks = BlockFilter()
        self._spoken = 0
        return chunks

    def _drain(self, final: bool) -> list[str]:
        chunks: list[str] = []
        while (end := self._next_cut(final)) is not None:
            chunks += self._take(end)
        return chunks

    def _next_cut(self, final: bool) -> int | None:
        for cut in find_cuts(self._text, final):
            if cut is None:
                return None
            if self._accepts(cut):
                return cut.end
        return None

    def _accepts(self, cut: Cut) -> bool:
        words = word_count(speakable_piece(self._text[: cut.end]))
        if words == 0:
            return True  # nothing to say (a dropped code block, a stage direction): let it go
        first = self._spoken == 0
        if cut.kind == "clause":
            return words >= (self.rules.first_clause_words if first else self.rules.max_words)
        return first or words >= self.rules.min_words

    def _take(self, end: int) -> list[str]:
        piece, self._text = self._text[:end], self._text[end:]
        said = speakable_piece(piece)
        if not said:
            return []
        self._spoken += 1
        return [said]
