"""The times koe keeps: UTC epoch seconds from 1900 up to (not including) 3000.

Inside that range every moment can be shown in every time zone and moved by days (time
windows, summaries) without leaving Python's datetime range. Outside it a value is not a
time anyone spoke at: JavaScript milliseconds, 1e300, NaN. Times from outside (imports,
`--at`) are checked on the way in; times read back from the store never fail (a stored
value that is not a time reads as the earliest time, so its memory can still be listed,
exported and forgotten).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

MIN_TIMESTAMP = datetime(1900, 1, 1, tzinfo=UTC).timestamp()
MAX_TIMESTAMP = datetime(3000, 1, 1, tzinfo=UTC).timestamp()  # exclusive
RANGE_TEXT = "the years 1900 to 2999"


@dataclass(frozen=True)
class CheckedTime:
    timestamp: float
    note: str = ""  # how the value was read when not as given


def in_range(value: float) -> bool:
    return math.isfinite(value) and MIN_TIMESTAMP <= value < MAX_TIMESTAMP


def check_timestamp(value: float) -> float:
    """`value` itself; ValueError when it is not a time koe keeps."""
    if not in_range(value):
        raise ValueError(f"time {describe(value)} is outside {RANGE_TEXT}")
    return value


def checked_timestamp(value: object) -> CheckedTime:
    """A time given from outside: seconds in range as they are, JavaScript milliseconds
    converted (with a note saying so), anything else a ValueError naming the value."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"timestamp {value!r} is not a number")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise ValueError(f"timestamp {value!r} is not a number") from None
    if in_range(number):
        return CheckedTime(number)
    if number > 0 and in_range(number / 1000):
        seconds = number / 1000
        return CheckedTime(seconds, f"timestamp {describe(number)} read as milliseconds "
                                    f"({iso(seconds)})")
    raise ValueError(f"timestamp {describe(number)} is outside {RANGE_TEXT}")


def stored_timestamp(value: object) -> float:
    """A time read back from the store; never fails (see the module note)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return MIN_TIMESTAMP
    return number if in_range(number) else MIN_TIMESTAMP


def clamped(moment: datetime) -> float:
    """`moment` as a timestamp, moved into the kept range (a window reaching past it)."""
    try:
        value = moment.timestamp()
    except (OverflowError, ValueError):  # beyond what datetime can compute in UTC
        return MIN_TIMESTAMP if moment.year < 1900 else MAX_TIMESTAMP
    return min(max(value, MIN_TIMESTAMP), MAX_TIMESTAMP)


def iso(timestamp: float) -> str:
    """A kept time as ISO 8601 in UTC."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def local(timestamp: float, zone: tzinfo) -> datetime:
    """A time in `zone`; an out-of-range value shows as the earliest time, never fails."""
    return datetime.fromtimestamp(stored_timestamp(timestamp), UTC).astimezone(zone)


def describe(value: float) -> str:
    """A number as a person would write it (no `1700000000000.0`)."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)
