"""Time windows from natural phrases: "yesterday", "last Tuesday", "two weeks ago", "in March".

Everything is relative to `now` in the user's time zone; a window is [since, until) as aware
datetimes. Conventions (documented because people differ):
- "last Tuesday" / "on Tuesday" / "Tuesday": the most recent Tuesday before today.
- "last week" / "two weeks ago": the calendar week (Monday to Sunday) holding the day one /
  two weeks back; "last month", "three months ago", "last year" likewise by calendar.
- "the past three days" / "in the last week": a rolling window ending now.
- "in March" / "March": the most recent March that has begun (this year's while it is March).
- morning 05-12, afternoon 12-17, evening 17-22, "last night" 18:00 yesterday to 06:00 today.
"""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class TimeWindow:
    since: datetime  # inclusive, aware
    until: datetime  # exclusive, aware
    phrase: str = ""

    def contains(self, moment: datetime) -> bool:
        return self.since <= moment < self.until


def local_zone(name: str = "") -> tzinfo:
    """The named IANA zone, else $TZ, else the system zone (/etc/localtime), else UTC offset."""
    for candidate in (name, os.environ.get("TZ", "").lstrip(":")):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                if candidate == name:
                    raise ValueError(f"unknown time zone {name!r}") from exc
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            try:
                return ZoneInfo(target.split("zoneinfo/", 1)[1])
            except (ZoneInfoNotFoundError, ValueError):
                pass
    return datetime.now().astimezone().tzinfo or ZoneInfo("UTC")


NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple": 2,
    "a couple": 2, "a couple of": 2, "a few": 3, "few": 3, "several": 3,
}
NUM = r"(\d{1,3}|a couple of|a couple|a few|several|an?|one|two|three|four|five|six|seven|" \
      r"eight|nine|ten|eleven|twelve)"
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|" \
        r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
PART = r"(morning|afternoon|evening|night)"
PARTS = {"morning": (5, 12), "afternoon": (12, 17), "evening": (17, 22), "night": (18, 30)}
DAY_NUM = r"(\d{1,2})(?:st|nd|rd|th)?"
YEAR = r"((?:19|20)\d{2})"


def _num(word: str) -> int:
    word = word.strip().lower()
    return int(word) if word.isdigit() else NUMBERS[word]


def _weekday(word: str) -> int:
    word = word.lower()
    return next(i for i, name in enumerate(WEEKDAYS) if name.startswith(word[:3]))


def _month(word: str) -> int:
    word = word.lower()
    return next(i + 1 for i, name in enumerate(MONTHS) if name.startswith(word[:3]))


class _Ctx:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.tz = now.tzinfo
        self.today = now.date()

    def at(self, day: date, hour: int = 0) -> datetime:
        extra, hour = divmod(hour, 24)
        return datetime.combine(day + timedelta(days=extra), time(hour), tzinfo=self.tz)

    def days(self, first: date, count: int = 1) -> tuple[datetime, datetime]:
        return self.at(first), self.at(first + timedelta(days=count))

    def part(self, day: date, part: str | None) -> tuple[datetime, datetime]:
        if not part:
            return self.days(day)
        start, end = PARTS[part]
        return self.at(day, start), self.at(day, end)

    def week_of(self, day: date) -> tuple[datetime, datetime]:
        return self.days(day - timedelta(days=day.weekday()), 7)

    def month(self, year: int, month: int) -> tuple[datetime, datetime]:
        end = date(year + (month == 12), month % 12 + 1, 1)
        return self.at(date(year, month, 1)), self.at(end)

    def months_back(self, n: int) -> tuple[int, int]:
        index = self.today.year * 12 + self.today.month - 1 - n
        return index // 12, index % 12 + 1

    def last_weekday(self, weekday: int) -> date:
        back = (self.today.weekday() - weekday) % 7 or 7
        return self.today - timedelta(days=back)

    def recent_month(self, month: int) -> int:
        return self.today.year if month <= self.today.month else self.today.year - 1


Handler = Callable[[_Ctx, re.Match[str]], tuple[datetime, datetime] | None]
RULES: list[tuple[re.Pattern[str], Handler]] = []


def rule(pattern: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        RULES.append((re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE), fn))
        return fn
    return register


@rule(r"(?:on\s+)?(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2}))?")
def _iso(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime] | None:
    day = date(int(m[1]), int(m[2]), int(m[3]))
    if m[4]:
        start = datetime.combine(day, time(int(m[4]), int(m[5])), tzinfo=c.tz)
        return start, start + timedelta(minutes=1)
    return c.days(day)


@rule(r"(?:earlier\s+)?today|this\s+" + PART + r"|tonight")
def _today(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime]:
    text = m[0].lower()
    if text == "tonight":
        return c.at(c.today, 17), c.at(c.today, 28)
    return c.part(c.today, m[1].lower() if m[1] else None)


@rule(r"(?:the\s+)?day\s+before\s+yesterday")
def _day_before_yesterday(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime]:
    return c.days(c.today - timedelta(days=2))


@rule(r"yesterday(?:\s+" + PART + r")?|last\s+night")
def _yesterday(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime]:
    if m[0].lower().startswith("last"):
        return c.at(c.today - timedelta(days=1), 18), c.at(c.today, 6)
    return c.part(c.today - timedelta(days=1), m[1].lower() if m[1] else None)


@rule(NUM + r"\s+(minute|hour|day|week|month|year)s?\s+ago")
def _ago(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime]:
    n, unit = _num(m[1]), m[2].lower()
    if unit in ("minute", "hour"):
        step = timedelta(minutes=1 if unit == "minute" else 60)
        return c.now - step * (n + 1), c.now - step * max(n - 1, 0)
    if unit == "day":
        return c.days(c.today - timedelta(days=n))
    if unit == "week":
        return c.week_of(c.today - timedelta(weeks=n))
    if unit == "month":
        return c.month(*c.months_back(n))
    return c.month(c.today.year - n, 1)[0], c.month(c.today.year - n, 12)[1]


@rule(r"(?:in\s+|over\s+|during\s+|within\s+)?(?:the\s+)?(?:last|past)\s+" + NUM
      + r"\s+(hour|day|week|month|year)s?")
def _rolling(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime]:
    n, unit = _num(m[1]), m[2].lower()
    span = {"hour": timedelta(hours=n), "day": timedelta(days=n), "week": timedelta(weeks=n),
            "month": timedelta(days=30 * n), "year": timedelta(days=365 * n)}[unit]
    return c.now - span, c.now


@rule(r"(?:(?:in|over|during|within)\s+)?the\s+(?:last|past)\s+(hour|day|week|month|year)"
      r"|past\s+(hour|day|week|month|year)|recently")
def _past_unit(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime]:
    unit = (m[1] or m[2] or "week").lower()
    span = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1),
            "month": timedelta(days=30), "year": timedelta(days=365)}[unit]
    return c.now - span, c.now


@rule(r"(last|this|the|over\s+the)\s+weekend")
def _weekend(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime]:
    saturday = c.today - timedelta(days=(c.today.weekday() - 5) % 7)
    if m[1].lower() == "last" and c.today.weekday() >= 5:
        saturday -= timedelta(days=7)
    return c.days(saturday, 2)


@rule(r"(last|this|next)\s+(week|month|year)")
def _calendar(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime]:
    offset = {"last": -1, "this": 0, "next": 1}[m[1].lower()]
    unit = m[2].lower()
    if unit == "week":
        return c.week_of(c.today + timedelta(weeks=offset))
    if unit == "month":
        return c.month(*c.months_back(-offset))
    year = c.today.year + offset
    return c.at(date(year, 1, 1)), c.at(date(year + 1, 1, 1))


@rule(r"(?:(?:on|last|this|past)\s+)?" + WEEKDAY + r"(?:\s+" + PART + r")?")
def _weekday_rule(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime]:
    weekday = _weekday(m[1])
    if m[0].lower().startswith("this") and weekday <= c.today.weekday():
        day = c.today - timedelta(days=c.today.weekday() - weekday)
    else:
        day = c.last_weekday(weekday)
    return c.part(day, m[2].lower() if m[2] else None)


@rule(r"(?:on\s+)?(?:the\s+)?" + DAY_NUM + r"\s+(?:of\s+)?" + MONTH + r"(?:,?\s+" + YEAR + r")?")
def _day_month(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime] | None:
    return _dated(c, int(m[1]), _month(m[2]), m[3])


@rule(r"(?:on\s+)?" + MONTH + r"\s+(?:the\s+)?" + DAY_NUM + r"(?!\d)(?:,?\s+" + YEAR + r")?")
def _month_day(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime] | None:
    return _dated(c, int(m[2]), _month(m[1]), m[3])


def _dated(c: _Ctx, day: int, month: int, year: str | None) -> tuple[datetime, datetime] | None:
    if not 1 <= day <= 31:
        return None
    y = int(year) if year else c.recent_month(month)
    if not year and date(y, month, min(day, 28)) > c.today:
        y -= 1
    if day > calendar.monthrange(y, month)[1]:
        return None
    return c.days(date(y, month, day))


@rule(r"(?:(in|during|since|last|this|early|late|mid|of)\s+(?:the\s+)?(?:month\s+of\s+)?)?"
      + MONTH + r"(?:,?\s+(?:of\s+)?" + YEAR + r")?")
def _month_rule(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime] | None:
    lead, year = (m[1] or "").lower(), m[3]
    if not lead and not year:
        return None  # a bare "may" or "march" is too often a verb
    month = _month(m[2])
    if year:
        y = int(year)
    elif lead == "last":
        y = c.today.year - 1 if month >= c.today.month else c.today.year
    elif lead == "this":
        y = c.today.year
    else:
        y = c.recent_month(month)
    start, end = c.month(y, month)
    if lead == "early":
        end = start + timedelta(days=10)
    elif lead == "late":
        start = c.at(date(y, month, 21))
    elif lead == "since":
        end = c.now if c.now > start else end
    return start, end


@rule(r"(?:in|during|of|since)\s+" + YEAR)
def _year(c: _Ctx, m: re.Match[str]) -> tuple[datetime, datetime]:
    y = int(m[1])
    end = c.now if m[0].lower().startswith("since") else c.at(date(y + 1, 1, 1))
    return c.at(date(y, 1, 1)), end


def find_time_window(text: str, now: datetime) -> tuple[TimeWindow | None, str]:
    """The first time phrase in `text` (leftmost, then longest) and the text without it."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    ctx = _Ctx(now)
    best: tuple[int, int, tuple[datetime, datetime]] | None = None
    for pattern, handler in RULES:
        for match in pattern.finditer(text):
            try:
                window = handler(ctx, match)
            except (KeyError, ValueError, OverflowError, StopIteration):
                window = None
            if window is None:
                continue
            start, end = match.span()
            if best is None or (start, -(end - start)) < (best[0], -(best[1] - best[0])):
                best = (start, end, window)
            break
    if best is None:
        return None, text
    start, end, (since, until) = best
    rest = re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", text[:start] + " " + text[end:]))
    rest = rest.strip()
    return TimeWindow(since, until, text[start:end]), rest


def parse_when(text: str, now: datetime) -> TimeWindow:
    """A whole time expression (CLI --since/--until/--before): a phrase or an ISO time."""
    try:
        return _parse_when(text.strip(), now)
    except OverflowError:  # a date at the very end of the calendar, plus a day
        raise ValueError(f"{text.strip()!r} is too far in the future to be a time") from None


def _parse_when(text: str, now: datetime) -> TimeWindow:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is not None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=now.tzinfo)
        if len(text) == 10:  # a bare date means the whole day
            return TimeWindow(moment, moment + timedelta(days=1), text)
        return TimeWindow(moment, moment, text)
    window, rest = find_time_window(text, now)
    if window is None:  # a bare month name ("march") is fine on its own
        window, rest = find_time_window(f"in {text}", now)
    if window is None or re.sub(r"[\s,.]", "", rest):
        raise ValueError(
            f"cannot read {text!r} as a time: try 2026-03-01, 'yesterday', 'last tuesday', "
            "'two weeks ago', 'in march'")
    return window
