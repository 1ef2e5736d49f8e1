"""Time values at the edges: what comes in is checked (milliseconds converted, the rest
refused), and whatever a stored record holds, every read path still works."""

from __future__ import annotations

import json
import math
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from koe.config.schema import MemorySettings
from koe.memory.errors import MemoryInputError
from koe.memory.inventory import conversations, stats
from koe.memory.recall import memory_block, recall
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from koe.memory.when.phrases import parse_when
from koe.memory.when.timestamps import (
    MAX_TIMESTAMP,
    MIN_TIMESTAMP,
    checked_timestamp,
    in_range,
    local,
    stored_timestamp,
)
from tests.memory.helpers import koe_memory, write_config

ZONES = sorted(zoneinfo.available_timezones())
EDGES = [MIN_TIMESTAMP, MIN_TIMESTAMP + 1, MAX_TIMESTAMP - 1e-3, 0.0, -1.0, 1.7e9]


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30),
                 st.text(max_size=20), st.booleans(), st.none()))
def test_a_time_from_outside_is_kept_or_refused_never_crashes(value: object) -> None:
    try:
        checked = checked_timestamp(value)
    except ValueError as exc:
        assert str(exc)  # says what is wrong
        return
    assert in_range(checked.timestamp)
    assert not isinstance(value, bool)
    # Milliseconds are said to be so; seconds in range are kept exactly.
    number = float(value)  # type: ignore[arg-type]
    assert checked.timestamp == number or (checked.note and "milliseconds" in checked.note)


@given(st.floats(MIN_TIMESTAMP, MAX_TIMESTAMP, exclude_max=True))
def test_every_kept_time_shows_in_every_zone(timestamp: float) -> None:
    for name in ZONES[::37]:  # a spread of offsets; all of them at the edges, below
        assert local(timestamp, zoneinfo.ZoneInfo(name)).year in range(1899, 3001)


def test_the_edges_show_in_every_zone() -> None:
    for name in ZONES:
        zone = zoneinfo.ZoneInfo(name)
        for timestamp in EDGES:
            local(timestamp, zone)
            # A window around the time (what recall and summaries compute) stays valid.
            parse_when(f"{local(timestamp, zone):%Y-%m-%d}", datetime.now(zone))


@given(st.one_of(st.floats(), st.text(max_size=8), st.none(), st.integers(-10**20, 10**20)))
def test_a_stored_time_always_reads(value: object) -> None:
    assert in_range(stored_timestamp(value))


def test_javascript_milliseconds_are_converted() -> None:
    checked = checked_timestamp(1_700_000_000_123)
    assert checked.timestamp == pytest.approx(1_700_000_000.123)
    assert "milliseconds" in checked.note and "2023-11-14" in checked.note
    for bad in (1e300, -1e12, math.nan, math.inf, -math.inf, "soon", True, [1]):
        with pytest.raises(ValueError):
            checked_timestamp(bad)


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(write_config(tmp_path / "koe.toml", path=str(tmp_path / "store"),
                            timezone="Asia/Tokyo"))


def test_add_at_refuses_a_time_out_of_range(config: str, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    assert koe_memory(config, "add", "far future", "--at", "9999-12-31T23:59") == 2
    err = capsys.readouterr().err
    assert "outside the years 1900 to 2999" in err and err.count("\n") <= 2
    assert koe_memory(config, "add", "just in", "--at", "2999-12-31T23:59") == 0
    # The day's end is past the calendar's.
    assert koe_memory(config, "list", "--since", "9999-12-31") == 2
    assert "too far in the future" in capsys.readouterr().err
    assert koe_memory(config, "list", "--since", "9999-12-30") == 0  # past the kept years: empty
    assert koe_memory(config, "list", "--until", "0001-01-01") == 0
    assert capsys.readouterr().out == ""
    assert koe_memory(config, "list") == 0
    assert "2999-12-31 23:59" in capsys.readouterr().out


def test_import_checks_every_timestamp_and_goes_on(config: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def line(i: int, stamp: object) -> str:
        return json.dumps({"id": f"r{i}", "text": f"memory {i}", "role": "user",
                           "conversation": "c", "timestamp": stamp})

    bad = {3: 1e300, 5: -1e12, 7: "NaN", 9: "Infinity", 11: "soon", 13: True}
    lines = []
    for i in range(1, 301):
        stamp = bad.get(i, 1.7e9 + i)
        lines.append(line(i, stamp) if not isinstance(stamp, str) or stamp == "soon"
                     else line(i, 0).replace("0}", f"{stamp}}}"))
    lines[19] = line(20, 1_700_000_000_000)  # JavaScript milliseconds
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert koe_memory(config, "import", str(source)) == 1
    err = capsys.readouterr().err
    for number in bad:
        assert f"{source}:{number}: " in err
    assert f"{source}:20: timestamp 1700000000000 read as milliseconds" in err
    assert "imported 294 memories, skipped 6 lines" in err
    with MemoryStore.open(MemorySettings(path=str(tmp_path / "store"))) as store:
        assert store.get(["r20"])[0].timestamp == 1_700_000_000.0
        assert len(store.records()) == 294 and store.get(["r300"])


def _bad_records(store: MemoryStore) -> list[str]:
    """Entries another program (or damage) wrote straight into chromadb."""
    metas = [{"t": 1e300, "role": "user", "conversation": "bad"},
             {"t": -1e12, "role": "user", "conversation": "bad"},
             {"t": math.nan, "role": "user", "conversation": "bad"},
             {"t": "soon", "role": "user", "conversation": "bad"},
             {"role": "user", "conversation": "bad"},
             {"t": 1.7e9}]
    ids = [f"bad{i}" for i in range(len(metas))]
    store.collection.add(ids=ids, embeddings=store.embedder.embed(["the broken record"] * 6),
                         documents=[f"broken record number {i}" for i in range(6)],
                         metadatas=metas)
    return ids


def test_every_read_path_survives_a_bad_stored_record(
        config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = MemorySettings(path=str(tmp_path / "store"), timezone="Asia/Tokyo")
    with MemoryStore.open(settings) as store:
        store.add_turn("user", "A good memory about the broken record player.", "good",
                       at=datetime(2026, 3, 1, tzinfo=UTC))
        ids = _bad_records(store)
    # The bad records were there before this koe opened the store (an older one wrote them).
    with MemoryStore.open(settings) as store:
        assert len(store.records()) == 7
        assert stats(store).memories == 7
        assert {c.id for c in conversations(store)} >= {"bad", "good"}
        found = recall(store, "the broken record", 10)  # what chat does for a question
        assert {r.record.id for r in found} & set(ids)
        assert "broken record" in memory_block(found, now=datetime.now(UTC))
        assert store.search("broken", 3, since=datetime(2026, 1, 1, tzinfo=UTC))
    capsys.readouterr()
    for args in (["list"], ["list", "--json"], ["search", "the broken record"],
                 ["search", "broken", "--since", "2020-01-01", "--json"], ["stats"],
                 ["stats", "--json"], ["conversations"], ["export"]):
        assert koe_memory(config, *args) == 0, args
    listed = capsys.readouterr().out
    for entry_id in ids:
        assert entry_id in listed
    assert "1900-01-01" in listed  # a time that is no time shows as the earliest kept
    # Seen, so it can be forgotten.
    assert koe_memory(config, "forget", *ids, "--yes") == 0
    with MemoryStore.open(settings) as store:
        assert [r.conversation for r in store.records()] == ["good"]


def test_storing_a_record_out_of_range_is_refused(store: MemoryStore) -> None:
    for stamp in (1e300, -1e12, math.nan, math.inf, MAX_TIMESTAMP):
        with pytest.raises(MemoryInputError, match="outside the years"):
            store.add_many([MemoryRecord("x", "text", "user", "c", stamp)])
    with pytest.raises(MemoryInputError, match="outside the years"):
        store.add_turn("user", "text", "c", at=datetime(1899, 12, 31, tzinfo=UTC))
    store.add_turn("user", "edge", "c", at=datetime.fromtimestamp(MIN_TIMESTAMP, UTC))
    store.add_turn("user", "edge", "c",
                   at=datetime.fromtimestamp(MAX_TIMESTAMP, UTC) - timedelta(seconds=1))
    assert len(store.records()) == 2


def test_an_iso_time_is_never_taken_for_milliseconds() -> None:
    from koe.memory.transfer import parse_line

    base = {"id": "a", "text": "t", "role": "user", "conversation": "c"}
    with pytest.raises(ValueError, match="outside the years"):
        parse_line(json.dumps({**base, "time": "9999-12-31T00:00:00Z"}).encode())
    with pytest.raises(ValueError):
        parse_line(json.dumps({**base, "time": "0001-01-01T00:00:00+14:00"}).encode())
    parsed = parse_line(json.dumps({**base, "time": "2026-03-01T09:00:00+01:00"}).encode())
    assert parsed is not None and parsed[0].timestamp == 1772352000.0 and parsed[1] == ""
