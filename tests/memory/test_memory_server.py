"""The same store against a real Chroma server (`chroma run` on 127.0.0.1)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings
from koe.memory.errors import StoreError, StoreUnavailableError
from koe.memory.forgetting.compact import compact
from koe.memory.forgetting.forget import forget, select
from koe.memory.forgetting.request import ForgetRequest
from koe.memory.health import check_store
from koe.memory.recall import recall
from koe.memory.recordings import Spoken, remember_recording
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from koe.memory.transfer import export_jsonl, import_jsonl
from tests.memory.helpers import free_port, running_chroma

T0 = datetime(2026, 3, 17, 9, 0, tzinfo=UTC)


def test_same_behaviour_on_a_server(chroma_server: str) -> None:
    settings = MemorySettings(url=chroma_server, collection="server-test", timezone="UTC")
    with MemoryStore.open(settings) as store:
        assert not store.embedded and store.location == chroma_server
        store.add_turn("user", "The spare key is under the blue flower pot.", "c1", at=T0)
        store.add_turn("assistant", "Got it: blue flower pot.", "c1",
                       at=T0 + timedelta(seconds=3), interrupted=True, spoken="Got it")
        store.add_turn("user", "Dentist on Thursday at 9:30.", "c2", at=T0 - timedelta(days=3))
        store.add_turn("user", "bulk " * 800, "c3", at=T0 - timedelta(days=30))
        found = recall(store, "where did I hide the extra key?", 1,
                       now=T0 + timedelta(hours=1))
        assert found[0].record.text == "The spare key is under the blue flower pot."
        turns = store.conversation_turns("c1")
        assert [t.role for t in turns] == ["user", "assistant"] and turns[1].spoken == "Got it"
        window = store.records(since=T0 - timedelta(days=4), until=T0 - timedelta(days=2))
        assert [r.conversation for r in window] == ["c2"]

        out = io.StringIO()
        assert export_jsonl(store, out) == 4
        chosen = select(store, conversation="c1")
        report = forget(store, chosen)
        assert report.forgotten == 2 and report.compaction is None  # the server's files
        assert [r.conversation for r in store.records()] == ["c3", "c2"]
        with pytest.raises(StoreError, match="is a Chroma server") as caught:
            compact(store)
        assert "chroma vacuum" in caught.value.hint
        report = import_jsonl(store, io.BytesIO(out.getvalue().encode()))
        assert report.imported == 4 and not report.skipped
        restored = store.conversation_turns("c1")
        assert restored == turns
    assert [c.ok for c in check_store(_with_memory(settings))] == [True]


def _with_memory(memory: MemorySettings):
    from koe.config.schema import Settings

    return Settings(memory=memory)


def test_a_server_that_is_down_names_its_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailableError, match=rf"Chroma server at {url} does not answer"
                       ) as caught:
        MemoryStore.open(MemorySettings(url=url, timeout=2))
    assert "chroma run" in caught.value.hint
    check = check_store(_with_memory(MemorySettings(url=url, timeout=2)))
    assert [c.ok for c in check] == [False]


def test_writes_survive_a_server_restart(tmp_path: Path) -> None:
    record = MemoryRecord("r1", "kept across a restart", "user", "c", T0.timestamp())
    port = free_port()
    with running_chroma(tmp_path, port) as url, MemoryStore.open(MemorySettings(url=url)) as store:
        store.add_many([record])
    with running_chroma(tmp_path, port) as url, MemoryStore.open(MemorySettings(url=url)) as store:
        assert store.get(["r1"]) == [record]
        assert store.search("what was kept?", 1)[0].record == record


def test_recall_ranks_and_remembers_recordings_on_a_server(chroma_server: str) -> None:
    """No index is kept beside a server (others may write to it): the server's own search
    gives the candidates, and the ranking, relevance and recordings work the same."""
    settings = MemorySettings(url=chroma_server, collection="server-ranking", timezone="UTC")
    now = T0 + timedelta(days=2)
    with MemoryStore.open(settings) as store:
        assert store.index is None
        fact = store.add_turn("user", "My sister Anna's birthday is on the third of March.",
                              "c1", at=T0)
        echo = store.add_turn("assistant", "Noted: your sister Anna's birthday is on the "
                              "third of March.", "c1", at=T0 + timedelta(seconds=2))
        store.add_many(MemoryRecord(f"ok{i}", "Set a timer for ten minutes.", "user", f"t{i}",
                                    (T0 - timedelta(days=i)).timestamp()) for i in range(20))
        found = recall(store, "When is Anna's birthday?", 5, now=now)
        assert found[0].record.id == fact.id and echo.id not in [r.record.id for r in found]
        assert all(0.0 <= r.score <= 1.0 for r in found)
        timers = recall(store, "set a timer", 5, now=now)
        assert [r.record.text for r in timers].count("Set a timer for ten minutes.") == 1
        assert timers[0].record.id == "ok0"  # the newest of the repeats

        said = [Spoken(0.0, 5.0, "The roof repair will cost four thousand pounds."),
                Spoken(75.0, 80.0, "We agreed to paint the hallway green.")]
        remember_recording(store, "house.m4a", T0.timestamp(), said, 80.0)
        found = recall(store, "what colour will the hallway be?", 1, now=now)
        assert (found[0].record.recording, found[0].record.offset) == ("house.m4a", 75.0)
        forget(store, select(store, ForgetRequest(recording="house.m4a")))
        assert store.records(source="recording") == []
