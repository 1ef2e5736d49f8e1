"""Time phrases against a fixed "now": Wednesday 18 March 2026, 15:30 in Berlin."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from koe.memory.when.phrases import find_time_window, local_zone, parse_when

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 18, 15, 30, tzinfo=BERLIN)


def span(phrase: str, now: datetime = NOW) -> tuple[str, str]:
    window, _ = find_time_window(phrase, now)
    assert window is not None, phrase
    return (window.since.strftime("%Y-%m-%d %H:%M"), window.until.strftime("%Y-%m-%d %H:%M"))


@pytest.mark.parametrize(("phrase", "since", "until"), [
    ("what did we talk about yesterday?", "2026-03-17 00:00", "2026-03-18 00:00"),
    ("today", "2026-03-18 00:00", "2026-03-19 00:00"),
    ("this morning", "2026-03-18 05:00", "2026-03-18 12:00"),
    ("this afternoon", "2026-03-18 12:00", "2026-03-18 17:00"),
    ("yesterday evening", "2026-03-17 17:00", "2026-03-17 22:00"),
    ("last night", "2026-03-17 18:00", "2026-03-18 06:00"),
    ("the day before yesterday", "2026-03-16 00:00", "2026-03-17 00:00"),
    ("what did I say last Tuesday", "2026-03-17 00:00", "2026-03-18 00:00"),
    ("on Monday", "2026-03-16 00:00", "2026-03-17 00:00"),
    ("last Wednesday", "2026-03-11 00:00", "2026-03-12 00:00"),  # not today
    ("Thursday morning", "2026-03-12 05:00", "2026-03-12 12:00"),
    ("two weeks ago", "2026-03-02 00:00", "2026-03-09 00:00"),
    ("a couple of days ago", "2026-03-16 00:00", "2026-03-17 00:00"),
    ("3 days ago", "2026-03-15 00:00", "2026-03-16 00:00"),
    ("last week", "2026-03-09 00:00", "2026-03-16 00:00"),
    ("this week", "2026-03-16 00:00", "2026-03-23 00:00"),
    ("in the last 3 days", "2026-03-15 15:30", "2026-03-18 15:30"),
    ("over the past week", "2026-03-11 15:30", "2026-03-18 15:30"),
    ("last month", "2026-02-01 00:00", "2026-03-01 00:00"),
    ("three months ago", "2025-12-01 00:00", "2026-01-01 00:00"),
    ("in March", "2026-03-01 00:00", "2026-04-01 00:00"),
    ("in May", "2025-05-01 00:00", "2025-06-01 00:00"),  # the most recent May
    ("last March", "2025-03-01 00:00", "2025-04-01 00:00"),
    ("in March 2024", "2024-03-01 00:00", "2024-04-01 00:00"),
    ("early February", "2026-02-01 00:00", "2026-02-11 00:00"),
    ("on the 3rd of March", "2026-03-03 00:00", "2026-03-04 00:00"),
    ("March 3rd", "2026-03-03 00:00", "2026-03-04 00:00"),
    ("on December 24", "2025-12-24 00:00", "2025-12-25 00:00"),
    ("last weekend", "2026-03-14 00:00", "2026-03-16 00:00"),
    ("last year", "2025-01-01 00:00", "2026-01-01 00:00"),
    ("in 2024", "2024-01-01 00:00", "2025-01-01 00:00"),
    ("on 2026-02-01", "2026-02-01 00:00", "2026-02-02 00:00"),
])
def test_phrases(phrase: str, since: str, until: str) -> None:
    assert span(phrase) == (since, until)


def test_no_phrase_and_verbs_that_look_like_months() -> None:
    for text in ("what did I tell you about my sister's birthday?", "you may go now",
                 "we will march on", "I sat down", ""):
        assert find_time_window(text, NOW) == (None, text)


def test_phrase_is_cut_from_the_question() -> None:
    window, rest = find_time_window("what did we talk about yesterday?", NOW)
    assert window is not None and window.phrase == "yesterday"
    assert rest == "what did we talk about?"


def test_local_midnight_across_daylight_saving() -> None:
    # Clocks went forward on Sunday 29 March 2026 in Berlin: that day has 23 hours.
    now = datetime(2026, 3, 30, 12, 0, tzinfo=BERLIN)
    window, _ = find_time_window("yesterday", now)
    assert window is not None
    assert window.since.utcoffset() != window.until.utcoffset()
    assert window.until.timestamp() - window.since.timestamp() == 23 * 3600


def test_parse_when_accepts_iso_and_phrases() -> None:
    assert parse_when("2026-03-01", NOW).since == datetime(2026, 3, 1, tzinfo=BERLIN)
    assert parse_when("2026-03-01", NOW).until == datetime(2026, 3, 2, tzinfo=BERLIN)
    moment = parse_when("2026-03-01T14:05:00+00:00", NOW).since
    assert moment.isoformat() == "2026-03-01T14:05:00+00:00"
    assert parse_when("yesterday", NOW).since == datetime(2026, 3, 17, tzinfo=BERLIN)
    assert parse_when("march", NOW).since == datetime(2026, 3, 1, tzinfo=BERLIN)
    with pytest.raises(ValueError, match="cannot read"):
        parse_when("the blue moon", NOW)
    with pytest.raises(ValueError, match="cannot read"):
        parse_when("yesterday and the blue moon", NOW)


def test_naive_now_is_refused_and_zones_resolve() -> None:
    with pytest.raises(ValueError):
        find_time_window("yesterday", datetime(2026, 3, 18))
    assert local_zone("Asia/Tokyo") == ZoneInfo("Asia/Tokyo")
    with pytest.raises(ValueError):
        local_zone("Mars/Olympus")
    assert local_zone("").utcoffset(datetime(2026, 1, 1)) is not None
