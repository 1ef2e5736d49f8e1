"""MemoryStore on a real embedded chromadb: writes, reads, windows, filters, bad input."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings
from koe.memory.chroma.client import SQLITE_FILE
from koe.memory.errors import MemoryInputError, StoreError, StoreLockedError
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore

T0 = datetime(2026, 3, 17, 12, 0, tzinfo=UTC)


def test_turn_round_trips_every_field(store: MemoryStore, memory_settings: MemorySettings
                                      ) -> None:
    user = store.add_turn("user", "Remind me to water the ferns.", "conv-1", at=T0,
                          user="ana", source="text")
    reply = store.add_turn("assistant", "I will remind you to water the ferns tonight.",
                           "conv-1", at=T0 + timedelta(seconds=4), interrupted=True,
                           spoken="I will remind you")
    store.close()
    with MemoryStore.open(memory_settings) as reopened:
        turns = reopened.conversation_turns("conv-1")
    assert turns == [user, reply]
    assert turns[0].timestamp == T0.timestamp() and turns[0].user == "ana"
    assert turns[1].interrupted and turns[1].spoken == "I will remind you"
    assert turns[1].user == "default" and turns[1].source == "voice"


def test_folder_is_private_and_telemetry_off(store: MemoryStore) -> None:
    path = store.connection.path
    assert path is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert store.connection.client.get_settings().anonymized_telemetry is False


def test_records_and_time_windows(store: MemoryStore) -> None:
    for hours in (0, 5, 23, 25, 49):
        store.add_turn("user", f"note written {hours} hours in", "c",
                       at=T0 + timedelta(hours=hours))
    texts = [r.text for r in store.records()]
    assert texts == [f"note written {h} hours in" for h in (0, 5, 23, 25, 49)]
    window = store.records(since=T0 + timedelta(hours=5), until=T0 + timedelta(hours=25))
    assert [r.text for r in window] == ["note written 5 hours in", "note written 23 hours in"]
    assert [r.text for r in store.records(limit=2)] == ["note written 25 hours in",
                                                         "note written 49 hours in"]
    assert [r.text for r in store.records(until=T0 + timedelta(hours=1))] == [
        "note written 0 hours in"]
    # Longer than the day-number lookup: a plain time range.
    assert len(store.records(since=T0 - timedelta(days=900), until=T0 + timedelta(days=1))) == 3


def test_search_filters(store: MemoryStore) -> None:
    store.add_turn("user", "The red bicycle is in the garage.", "a", at=T0, user="ana")
    store.add_turn("user", "The red bicycle has a flat tyre.", "b", at=T0, user="ben")
    store.add_turn("assistant", "Your red bicycle is in the garage.", "a", at=T0, user="ana")
    assert {h.record.conversation for h in store.search("red bicycle", 5)} == {"a", "b"}
    assert [h.record.user for h in store.search("red bicycle", 5, user="ben")] == ["ben"]
    only_a = store.search("red bicycle", 5, conversation="a", roles=["user"])
    assert [(h.record.conversation, h.record.role) for h in only_a] == [("a", "user")]
    in_window = store.search("bicycle", 5, since=T0, until=T0 + timedelta(seconds=1),
                             user="ana")
    assert len(in_window) == 2 and all(h.record.user == "ana" for h in in_window)
    assert store.search("bicycle", 5, since=T0 + timedelta(days=1)) == []


def test_long_text_is_split_and_every_piece_is_found(store: MemoryStore) -> None:
    filler = " ".join(f"Paragraph {i} describes the vegetable garden and its tomatoes."
                      for i in range(120))
    text = filler + " The combination of the bike lock is 4-7-1-9."
    record = store.add_turn("user", text, "long", at=T0)
    assert store.count() > 5  # the memory plus its extra pieces
    assert [r.id for r in store.records()] == [record.id]  # pieces are not memories
    hit = store.search("What is the code for my bike lock?", 1)[0]
    assert hit.record == record
    assert "4-7-1-9" in hit.excerpt and len(hit.excerpt) <= 2 * store.settings.chunk_chars
    assert store.delete([record.id]) == 1
    assert store.count() == 0


def test_bad_input_is_refused_with_a_reason(store: MemoryStore) -> None:
    with pytest.raises(MemoryInputError, match="empty text"):
        store.add_turn("user", "   ", "c")
    with pytest.raises(MemoryInputError, match="role"):
        store.add_turn("robot", "hello", "c")
    settings = store.settings.model_copy(update={"max_text_chars": 1000})
    store.settings = settings
    with pytest.raises(MemoryInputError, match=r"longer than memory\.max_text_chars"):
        store.add_turn("user", "x" * 1001, "c")
    assert store.count() == 0


def test_replacing_a_long_memory_drops_its_old_pieces(store: MemoryStore) -> None:
    long = MemoryRecord("m1", "word " * 2000, "user", "c", T0.timestamp())
    store.add_many([long])
    pieces = store.count()
    assert pieces > 3
    store.add_many([MemoryRecord("m1", "now short", "user", "c", T0.timestamp())])
    assert store.count() == 1
    assert store.get(["m1"])[0].text == "now short"


def test_second_process_is_locked_out(store: MemoryStore, memory_settings: MemorySettings
                                      ) -> None:
    with pytest.raises(StoreLockedError, match=rf"{store.location}.*in use .*pid {os.getpid()}"):
        MemoryStore.open(memory_settings)


def test_corrupted_store_is_not_replaced(memory_settings: MemorySettings) -> None:
    with MemoryStore.open(memory_settings) as first:
        first.add_turn("user", "precious memory", "c")
    path = Path(memory_settings.path)
    sqlite = path / SQLITE_FILE
    sqlite.write_bytes(b"this is not a database" * 500)
    with pytest.raises(StoreError, match=rf"{path}.*damaged") as caught:
        MemoryStore.open(memory_settings)
    assert "move" in caught.value.hint
    assert sqlite.read_bytes().startswith(b"this is not a database")  # left as it was


def test_foreign_folder_and_lost_collection(tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"jpeg")
    with pytest.raises(StoreError, match="holds no memory store"):
        MemoryStore.open(MemorySettings(path=str(foreign)))

    settings = MemorySettings(path=str(tmp_path / "store"))
    with MemoryStore.open(settings) as first:
        first.add_turn("user", "hello", "c")
        first.connection.client.delete_collection(settings.collection)
    with pytest.raises(StoreError, match="lost its collection"):
        MemoryStore.open(settings)
