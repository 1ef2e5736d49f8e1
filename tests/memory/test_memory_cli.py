"""`koe memory ...` end to end through the real CLI, and lossless export/import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from koe.voice.cli import main

RECORDS = [
    MemoryRecord("a1", "My sister Anna's birthday is on the third of March.", "user", "c1",
                 1773740000.123456, user="ana", source="voice"),
    MemoryRecord("a2", "Noted: Anna, March 3rd.", "assistant", "c1", 1773740004.5,
                 interrupted=True, spoken="Noted: Anna"),
    MemoryRecord("a3", "Birthday planning for Anna.", "summary", "c1", 1773740004.5,
                 source="text"),
    MemoryRecord("b1", "Ünïcödé ✓ and \"quotes\"\nand a new line", "user", "c2", 1600000000.0,
                 source="import"),
    MemoryRecord("b2", "long " * 900, "user", "c2", 1600000001.0),
]


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "koe.toml"
    path.write_text(f'[memory]\npath = "{tmp_path / "store"}"\ntimezone = "Europe/Berlin"\n',
                    encoding="utf-8")
    return str(path)


def koe(config: str, *args: str) -> int:
    return main(["--config", config, "memory", *args])


def _settings(config: str) -> MemorySettings:
    from koe.config.loader import load_settings

    return load_settings(config).memory


def test_export_import_round_trip_is_lossless(config: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with MemoryStore.open(_settings(config)) as store:
        store.add_many(RECORDS)
    exported = tmp_path / "memories.jsonl"
    assert koe(config, "export", "-o", str(exported)) == 0
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["b1", "b2", "a1", "a2", "a3"]

    other = tmp_path / "other.toml"
    other.write_text(f'[memory]\npath = "{tmp_path / "store2"}"\n', encoding="utf-8")
    assert koe(str(other), "import", str(exported)) == 0
    assert koe(str(other), "import", str(exported)) == 0  # twice: replaced, not doubled
    with MemoryStore.open(_settings(str(other))) as copy:
        assert sorted(copy.records(), key=lambda r: r.id) == sorted(RECORDS, key=lambda r: r.id)
    capsys.readouterr()
    assert koe(str(other), "export") == 0
    assert capsys.readouterr().out.splitlines() == lines


def test_import_skips_bad_lines_by_number(config: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    good = json.dumps(RECORDS[0].to_json()).encode()
    bad = tmp_path / "mixed.jsonl"
    bad.write_bytes(b"\n".join([
        good,
        b"\xff\xfe not utf-8 \xc3",
        b"{not json",
        json.dumps({"id": "x", "text": "no role", "conversation": "c"}).encode(),
        b"",
        json.dumps({**RECORDS[3].to_json(), "role": "robot"}).encode(),
        json.dumps(RECORDS[3].to_json()).encode(),
    ]) + b"\n")
    assert koe(config, "import", str(bad)) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2: not UTF-8" in err
    assert f"{bad}:3: not JSON" in err
    assert f"{bad}:4: missing role" in err
    assert f"{bad}:6: role must be one of" in err
    assert "imported 2 memories, skipped 4 lines" in err
    with MemoryStore.open(_settings(config)) as store:
        assert {r.id for r in store.records()} == {"a1", "b1"}


def test_add_search_list_conversations_stats(config: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert koe(config, "add", "I parked on level 4, bay C12.", "--conversation", "trip",
               "--at", "2026-03-01T10:00:00+01:00") == 0
    assert koe(config, "add", "Level 4 is the quiet one.", "--role", "assistant",
               "--conversation", "trip", "--at", "2026-03-01T10:00:05+01:00") == 0
    assert koe(config, "add", "Buy oat milk.", "--at", "2026-03-05") == 0
    capsys.readouterr()

    assert koe(config, "search", "where did I leave the car?", "-k", "1", "--json") == 0
    hit = json.loads(capsys.readouterr().out)
    assert hit["text"] == "I parked on level 4, bay C12." and hit["conversation"] == "trip"
    assert hit["time"] == "2026-03-01T09:00:00+00:00" and 0 < hit["similarity"] <= 1

    assert koe(config, "search", "shopping", "--since", "2026-03-02", "--json") == 0
    assert [json.loads(x)["text"] for x in capsys.readouterr().out.splitlines()] == [
        "Buy oat milk."]

    assert koe(config, "list", "--conversation", "trip") == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].startswith("2026-03-01 10:00  user")

    assert koe(config, "list", "--until", "2026-03-01", "--json") == 0
    assert len(capsys.readouterr().out.splitlines()) == 2

    assert koe(config, "conversations", "--json") == 0
    convs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [c["turns"] for c in convs] == [2, 1] and convs[0]["id"] == "trip"

    assert koe(config, "stats", "--json") == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["memories"] == 3 and stats["by_role"] == {"user": 2, "assistant": 1}
    assert stats["conversations"] == 2 and stats["bytes_on_disk"] > 0
    assert stats["oldest"] == pytest.approx(1772355600.0)


def test_forget_asks_first_then_compacts(config: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert koe(config, "add", "The alarm code is 8142.", "--conversation", "x") == 0
    assert koe(config, "add", "Tomatoes need water.", "--conversation", "y") == 0
    capsys.readouterr()
    assert koe(config, "forget", "--matching", "alarm code") == 1  # not a TTY: no --yes, no
    assert "add --yes" in capsys.readouterr().err
    assert koe(config, "forget", "--matching", "alarm code", "--yes") == 0
    out = capsys.readouterr().out
    assert "forgot 1 memories" in out and "compacted" in out
    for file in (tmp_path / "store").rglob("*"):
        if file.is_file():
            assert b"8142" not in file.read_bytes(), file
    assert koe(config, "forget", "--conversation", "y", "--yes", "--no-compact") == 0
    assert koe(config, "forget", "deadbeef", "--yes") == 1


def test_bad_usage_exits_2(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert koe(config, "search", "x", "--since", "the blue moon") == 2
    assert "cannot read 'the blue moon'" in capsys.readouterr().err
    assert koe(config, "forget") == 2
    assert koe(config, "add", "   ") == 2
    assert "empty text" in capsys.readouterr().err
    assert koe(config, "import", "/no/such/file.jsonl") == 2
