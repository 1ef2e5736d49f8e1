"""Find speech the batched pipeline skipped, so it can be transcribed again on its own.

Whisper decoding a 30 s batch chunk sometimes drops a whole sentence (it has no second look,
unlike the sequential decoder, which seeks back to the last timestamp). Every stretch of
speech the voice-activity detector found is checked for segments covering it; one left mostly
uncovered is handed back for a repair pass. Pure logic: no model here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from koe.voice.stt.segments import TranscriptSegment


@dataclass(frozen=True)
class SpeechRegion:
    start: float  # seconds
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def overlap(self, start: float, end: float) -> float:
        return max(0.0, min(self.end, end) - max(self.start, start))


def merge_regions(regions: list[SpeechRegion], max_seconds: float) -> list[SpeechRegion]:
    """Greedy spans of consecutive regions no longer than `max_seconds`: the batch chunks."""
    chunks: list[SpeechRegion] = []
    for region in regions:
        if chunks and region.end - chunks[-1].start <= max_seconds:
            chunks[-1] = SpeechRegion(chunks[-1].start, region.end)
        else:
            chunks.append(region)
    return chunks


@dataclass
class CoverageTracker:
    """Follows time-ordered segments over the speech regions; reports regions left uncovered."""

    regions: list[SpeechRegion]
    min_seconds: float = 1.0  # shorter regions are breaths and clicks, not lost sentences
    min_covered: float = 0.5  # fraction of a region segments must overlap
    _covered: list[float] | None = None
    _next: int = 0  # first region not yet judged

    def __post_init__(self) -> None:
        self._covered = [0.0] * len(self.regions)

    def add(self, segment: TranscriptSegment) -> list[SpeechRegion]:
        """Count `segment`; return the regions that ended before it and are left uncovered."""
        for i in range(self._next, len(self.regions)):
            if self.regions[i].start >= segment.end:
                break
            self._covered[i] += self.regions[i].overlap(segment.start, segment.end)
        return self._judge(until=segment.start)

    def finish(self) -> list[SpeechRegion]:
        return self._judge(until=float("inf"))

    def _judge(self, until: float) -> list[SpeechRegion]:
        lost = []
        while self._next < len(self.regions) and self.regions[self._next].end <= until:
            region, covered = self.regions[self._next], self._covered[self._next]
            if region.seconds >= self.min_seconds and covered < self.min_covered * region.seconds:
                lost.append(region)
            self._next += 1
        return lost


Repair = Callable[[SpeechRegion], list[TranscriptSegment]]


def with_repairs(segments: Iterable[TranscriptSegment], regions: list[SpeechRegion],
                 repair: Repair) -> Iterator[TranscriptSegment]:
    """`segments` in time order, with the repaired text of skipped regions slotted in place."""
    tracker = CoverageTracker(regions)
    for segment in segments:
        for region in tracker.add(segment):
            yield from repair(region)
        yield segment
    for region in tracker.finish():
        yield from repair(region)
