"""`koe memory` with input a user really gives: standard input, bytes that are not UTF-8,
counts of zero or less, a closed pipe, an unknown time zone."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings
from koe.memory.errors import MemoryInputError
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from tests.memory.helpers import ROOT, koe_memory, run_koe, write_config


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(write_config(tmp_path / "koe.toml", path=str(tmp_path / "store"),
                            timezone="UTC"))


def _texts(config: str) -> list[str]:
    from koe.config.loader import load_settings

    with MemoryStore.open(load_settings(config).memory) as store:
        return [r.text for r in store.records()]


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_add_dash_reads_standard_input(config: str, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, "hi ✓\nsecond line\n".encode())
    assert koe_memory(config, "add", "-") == 0
    assert _texts(config) == ["hi ✓\nsecond line"]
    _stdin(monkeypatch, b"caf\xe9 au lait\n")
    assert koe_memory(config, "add", "-") == 2
    err = capsys.readouterr().err
    assert "standard input is not UTF-8 text (byte 3)" in err and "Traceback" not in err
    _stdin(monkeypatch, b"\n")
    assert koe_memory(config, "add", "-") == 2
    assert "empty text" in capsys.readouterr().err
    assert _texts(config) == ["hi ✓\nsecond line"]


def test_text_that_is_not_utf8_is_refused_in_one_line(config: str, store: MemoryStore
                                                      ) -> None:
    undecodable = os.fsdecode(b"caf\xe9 au lait")  # what Python makes of such argv bytes
    ran = run_koe("--config", config, "memory", "add", undecodable)
    assert ran.code == 2 and len(ran.err.strip().splitlines()) <= 2, ran.err
    assert "UTF-8" in ran.err
    with pytest.raises(MemoryInputError, match=r"text is not valid UTF-8 \(byte 0xe9"):
        store.add_turn("user", undecodable, "c")
    with pytest.raises(MemoryInputError, match="conversation is not valid UTF-8"):
        store.add_turn("user", "fine", os.fsdecode(b"\xff"))
    assert store.count() == 0


def test_counts_must_be_one_or_more(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    for text in ("first", "second", "third"):
        assert koe_memory(config, "add", text) == 0
    capsys.readouterr()
    for args in (["list", "--limit", "0"], ["list", "--limit", "-1"],
                 ["search", "x", "-k", "0"], ["list", "--limit", "many"]):
        assert koe_memory(config, *args) == 2, args
        assert "koe: error:" in capsys.readouterr().err
    assert koe_memory(config, "list", "--limit", "1") == 0
    assert capsys.readouterr().out.split()[-1] == "third"


def test_a_limit_below_one_is_refused_by_the_store(store: MemoryStore) -> None:
    store.add_turn("user", "only", "c")
    for limit in (0, -1):
        with pytest.raises(MemoryInputError, match="limit must be 1 or more"):
            store.records(limit=limit)


def test_list_into_a_closed_pipe_ends_quietly(config: str) -> None:
    from koe.config.loader import load_settings

    with MemoryStore.open(load_settings(config).memory) as store:
        # More than a pipe holds (64 KiB), so the writer meets the closed end.
        store.add_many(MemoryRecord(f"m{i}", f"memory {i} about the weekly shopping list",
                                    "user", "c", 1.7e9 + i) for i in range(600))
    command = f"{sys.executable} -m koe.voice.cli --config {config} memory list --json | head -1"
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.startswith('{"id": "m0"')
    assert done.stderr == ""  # no traceback, no "Exception ignored"


def test_an_unknown_time_zone_is_refused_when_settings_load(tmp_path: Path) -> None:
    config = write_config(tmp_path / "koe.toml", path=str(tmp_path / "store"),
                          timezone="Mars/Olympus")
    ran = run_koe("--config", str(config), "memory", "stats")
    assert ran.code == 2
    assert ran.err.startswith("koe: error: bad value for memory.timezone: 'Mars/Olympus'")
    assert "IANA" in ran.err and len(ran.err.strip().splitlines()) == 1
    with pytest.raises(ValueError, match="not a time zone name"):
        MemorySettings(timezone="Mars/Olympus")
    assert MemorySettings(timezone=" Asia/Tokyo ").timezone == "Asia/Tokyo"
