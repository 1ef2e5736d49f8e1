"""What a forget request names: selectors that each narrow the choice (they AND), checked
before anything is read. Light on imports: the command line builds its help from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from koe.config.errors import KoeError
from koe.memory.errors import MemoryInputError
from koe.memory.forgetting.phrase import Phrase
from koe.memory.records import MemoryRecord, Moment, epoch_of, record_id

# Cosine similarity a memory needs to be "about" a text, and the most that may be chosen by
# meaning at once: more than that close matches means the request is too vague to act on.
ABOUT_THRESHOLD = 0.6
ABOUT_LIMIT = 10


class TooBroadError(KoeError):
    """A request by meaning that would choose more memories than ABOUT_LIMIT."""


@dataclass(frozen=True)
class ForgetRequest:
    """What to forget. Each selector given narrows the choice; none given is an error."""

    ids: tuple[str, ...] = ()
    conversation: str | None = None
    before: Moment = None  # older than this
    matching: str | None = None  # a phrase, matched as whole words
    about: str | None = None  # by meaning
    threshold: float = ABOUT_THRESHOLD
    limit: int = ABOUT_LIMIT
    recording: str | None = None  # remembered from the recording of this file name

    def __post_init__(self) -> None:
        if not (self.ids or self.conversation is not None or self.before is not None
                or self.matching is not None or self.about is not None
                or self.recording is not None):
            raise MemoryInputError("say what to forget: ids, a conversation, an age, a "
                                   "phrase, a meaning or a recording")
        if self.recording is not None and not self.recording.strip():
            raise MemoryInputError("say which recording to forget (its file name)")
        if self.matching is not None:
            try:
                Phrase(self.matching)
            except ValueError as exc:
                raise MemoryInputError(f"cannot match {exc}") from None
        if self.about is not None and not self.about.strip():
            raise MemoryInputError("say what the memories to forget are about")
        if not -1.0 <= self.threshold <= 1.0:
            raise MemoryInputError(f"threshold must be a similarity from -1 to 1, "
                                   f"not {self.threshold:g}")
        if self.limit < 1:
            raise MemoryInputError(f"limit must be 1 or more, not {self.limit}")

    @cached_property
    def record_ids(self) -> list[str]:
        return list(dict.fromkeys(record_id(i) for i in self.ids))

    @cached_property
    def phrase(self) -> Phrase | None:
        return None if self.matching is None else Phrase(self.matching)

    def keeps(self, record: MemoryRecord) -> bool:
        """Whether `record` passes every selector but `about`."""
        before = epoch_of(self.before)
        return ((not self.ids or record.id in self.record_ids)
                and (self.conversation is None or record.conversation == self.conversation)
                and (before is None or record.timestamp < before)
                and (self.recording is None or record.recording == self.recording)
                and (self.phrase is None or self.phrase.matches(record.text)))
