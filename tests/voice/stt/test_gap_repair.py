"""Finding speech the batched pipeline skipped: pure logic over regions and segments."""

from __future__ import annotations

from koe.voice.stt.gap_repair import CoverageTracker, SpeechRegion, merge_regions, with_repairs
from koe.voice.stt.segments import TranscriptSegment, Word


def seg(start: float, end: float, text: str = "words") -> TranscriptSegment:
    return TranscriptSegment(start, end, text)


REGIONS = [SpeechRegion(0.0, 4.0), SpeechRegion(5.0, 9.0), SpeechRegion(10.0, 10.5),
           SpeechRegion(12.0, 16.0)]


def test_merge_regions_respects_the_chunk_length() -> None:
    assert merge_regions(REGIONS, 10.0) == [SpeechRegion(0.0, 9.0), SpeechRegion(10.0, 16.0)]
    assert merge_regions(REGIONS, 100.0) == [SpeechRegion(0.0, 16.0)]
    assert merge_regions(REGIONS, 1.0) == REGIONS


def test_covered_regions_need_no_repair() -> None:
    tracker = CoverageTracker(REGIONS)
    lost = [*tracker.add(seg(0.0, 4.2)), *tracker.add(seg(5.1, 8.8)),
            *tracker.add(seg(12.0, 15.9)), *tracker.finish()]
    assert lost == []  # the 0.5 s region at 10 s is too short to count as lost


def test_skipped_sentence_is_reported_once_it_is_past() -> None:
    tracker = CoverageTracker(REGIONS)
    assert tracker.add(seg(0.0, 4.0)) == []
    # The next segment starts after the 5-9 s region: nothing covered it.
    assert tracker.add(seg(12.0, 16.0)) == [SpeechRegion(5.0, 9.0)]
    assert tracker.finish() == []


def test_half_covered_region_is_kept_a_sliver_is_not() -> None:
    tracker = CoverageTracker([SpeechRegion(0.0, 4.0), SpeechRegion(5.0, 9.0)])
    assert tracker.add(seg(0.0, 2.5)) == []
    assert tracker.add(seg(8.5, 9.0)) == []  # 2.5 of 4 s covered: kept
    assert tracker.finish() == [SpeechRegion(5.0, 9.0)]


def test_repairs_are_slotted_in_time_order() -> None:
    repaired = []

    def repair(region: SpeechRegion) -> list[TranscriptSegment]:
        repaired.append(region)
        return [seg(region.start, region.end, f"again {region.start:g}")]

    out = list(with_repairs([seg(0.0, 4.0, "a"), seg(12.0, 16.0, "c")], REGIONS, repair))
    assert [s.text for s in out] == ["a", "again 5", "c"]
    assert repaired == [SpeechRegion(5.0, 9.0)]


def test_trailing_skipped_region_is_repaired_at_the_end() -> None:
    def repair(region: SpeechRegion) -> list[TranscriptSegment]:
        return [seg(region.start, region.end, "tail")]

    out = list(with_repairs([seg(0.0, 4.0, "a")], REGIONS[:2], repair))
    assert [s.text for s in out] == ["a", "tail"]


def test_shifted_moves_words_too() -> None:
    segment = TranscriptSegment(1.0, 2.0, "hi", words=(Word(1.0, 1.5, " hi", 0.9),))
    moved = segment.shifted(10.0)
    assert (moved.start, moved.end, moved.words[0].start, moved.words[0].end) == (
        11.0, 12.0, 11.0, 11.5)
