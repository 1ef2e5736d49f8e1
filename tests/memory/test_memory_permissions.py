"""Stores koe may not write, run as a non-root user (root ignores file modes): one clear
line each, and koe leaves the modes as it found them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from koe.config.schema import MemorySettings, Settings
from koe.memory.health import check_store
from koe.memory.store import MemoryStore
from tests.memory.helpers import non_root_prefix, run_koe, write_config


def _chmod_tree(path: Path, folders: int, files: int) -> None:
    for folder, _, names in os.walk(path):
        os.chmod(folder, folders)
        for name in names:
            os.chmod(Path(folder, name), files)


@pytest.fixture
def as_user() -> tuple[str, ...]:
    return non_root_prefix()


def test_a_read_only_store_is_said_to_be_read_only_and_left_so(
        tmp_path: Path, as_user: tuple[str, ...]) -> None:
    store_path = tmp_path / "store"
    with MemoryStore.open(MemorySettings(path=str(store_path))) as store:
        store.add_turn("user", "The spare key is under the blue pot.", "c")
    config = write_config(tmp_path / "koe.toml", path=str(store_path))
    _chmod_tree(store_path, 0o500, 0o400)
    try:
        for args in (["list"], ["search", "spare key"], ["add", "one more thing"]):
            ran = run_koe("--config", str(config), "memory", *args, prefix=as_user)
            assert ran.code == 1, (args, ran.err)
            lines = ran.err.strip().splitlines()
            assert lines[0] == f"koe: error: memory store {store_path} is read-only " \
                               "(mode 500 on the folder)", (args, ran.err)
            assert len(lines) == 2 and "chmod -R u+w" in lines[1]
            assert "damaged" not in ran.err
            assert stat.S_IMODE(store_path.stat().st_mode) == 0o500  # not chmod-ed back
    finally:
        _chmod_tree(store_path, 0o700, 0o600)
    with MemoryStore.open(MemorySettings(path=str(store_path))) as store:
        assert [r.text for r in store.records()] == ["The spare key is under the blue pot."]


def test_a_read_only_database_file_in_a_writable_folder(tmp_path: Path,
                                                        as_user: tuple[str, ...]) -> None:
    store_path = tmp_path / "store"
    with MemoryStore.open(MemorySettings(path=str(store_path))) as store:
        store.add_turn("user", "kept", "c")
    (store_path / "chroma.sqlite3").chmod(0o400)
    config = write_config(tmp_path / "koe.toml", path=str(store_path))
    ran = run_koe("--config", str(config), "memory", "list", prefix=as_user)
    assert ran.code == 1
    assert "is read-only (mode 400 on chroma.sqlite3)" in ran.err.splitlines()[0]


def test_a_home_that_cannot_be_written(tmp_path: Path, as_user: tuple[str, ...]) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o500)
    ran = run_koe("memory", "list", prefix=as_user,
                  env={"KOE_HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert ran.code == 1
    assert ran.err.startswith(f"koe: error: memory store {home / 'data' / 'memory'}: "
                              "permission denied"), ran.err
    assert "KOE_HOME" in ran.err


def test_doctor_fails_a_memory_path_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("not a store", encoding="utf-8")
    checks = list(check_store(Settings(memory=MemorySettings(path=str(file)))))
    assert [c.ok for c in checks] == [False]
    assert "is a file, not a folder" in checks[0].detail
    inside = list(check_store(Settings(memory=MemorySettings(path=str(file / "memory")))))
    assert [c.ok for c in inside] == [False] and "cannot be made" in inside[0].detail
    fresh = list(check_store(Settings(memory=MemorySettings(path=str(tmp_path / "new")))))
    assert [c.ok for c in fresh] == [True]
