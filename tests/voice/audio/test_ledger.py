"""The speaker's bookkeeping: device clock -> samples heard -> what each chunk got to play."""

from __future__ import annotations

import asyncio

import pytest

from koe.voice.audio.chunks import Played
from koe.voice.audio.ledger import Ledger, Playhead


def test_chunks_finish_in_order_as_the_device_plays_them() -> None:
    async def go() -> None:
        ledger = Ledger()
        # Two chunks at 24 kHz on a 48 kHz device: 100 source samples -> 200 device samples.
        a = ledger.add("a", 100, 24000, 0, 200, final=False)
        ledger.finalize()  # "b" follows "a": a's end is exact now
        b = ledger.add("b", 50, 24000, 200, 300, final=False)
        assert ledger.settle(199) == [] and not a.done()
        assert ledger.settle(250) == [Played("a", 100, 100, 24000)]
        assert a.result().complete and not b.done()
        # b is still inside the resampler: however far the device gets, b is not done.
        assert ledger.settle(1000) == [] and not b.done()
        ledger.finalize(end=302)  # flushed: the tail made b 2 samples longer
        assert ledger.settle(301) == []
        assert ledger.settle(302) == [Played("b", 50, 50, 24000)]
        assert len(ledger) == 0

    asyncio.run(go())


def test_cut_reports_partial_and_unplayed_chunks() -> None:
    async def go() -> None:
        ledger = Ledger()
        first = ledger.add(1, 100, 16000, 0, 300, final=True)
        second = ledger.add(2, 100, 16000, 300, 600, final=True)
        third = ledger.add(3, 100, 16000, 600, 900, final=False)
        assert ledger.cut(450) == [Played(1, 100, 100, 16000), Played(2, 100, 50, 16000),
                                   Played(3, 100, 0, 16000)]
        assert [f.result().played for f in (first, second, third)] == [100, 50, 0]
        assert len(ledger) == 0

    asyncio.run(go())


def test_an_open_chunk_never_reports_all_of_itself() -> None:
    async def go() -> None:
        ledger = Ledger()
        ledger.add("open", 10, 16000, 0, 30, final=False)
        [report] = ledger.cut(10_000)
        assert report.played == 9  # its last samples never left the resampler

    asyncio.run(go())


def test_empty_chunks_are_done_at_once() -> None:
    async def go() -> None:
        ledger = Ledger()
        assert ledger.add("x", 0, 16000, 5, 5, final=False).result() == Played("x", 0, 0, 16000)
        assert len(ledger) == 0

    asyncio.run(go())


def test_playhead_counts_what_reached_the_dac() -> None:
    head = Playhead(1000)  # 1000 samples a second: 1 sample = 1 ms
    head.wrote(100, dac_time=10.0)  # heard from 10.0 s to 10.1 s
    head.wrote(100, dac_time=10.3)  # after a 0.2 s gap (an underflow)
    assert head.heard(9.0) == 0
    assert head.heard(10.05) == 50
    assert head.heard(10.2) == 100  # in the gap
    assert head.heard(10.35) == 150
    assert head.time_of(150) == pytest.approx(10.35)
    assert head.time_of(201) is None  # not written yet
    assert head.heard(11.0) == 200
    assert head.time_of(50) == 0.0  # long heard
    head.reset()
    assert head.written == 0 and head.heard(20.0) == 0
