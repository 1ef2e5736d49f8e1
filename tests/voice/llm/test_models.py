"""The packaged GGUF is joined once, checked, and rebuilt when damaged."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from koe.config.errors import ModelError
from koe.config.files import is_intact
from koe.voice.llm.models import GEMMA_270M, assemble, resolve_gguf

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return assemble(GEMMA_270M, tmp_path_factory.mktemp("gguf"))


def test_joined_file_matches_the_published_size_and_digest(assembled: Path) -> None:
    assert assembled.stat().st_size == GEMMA_270M.size
    assert is_intact(GEMMA_270M, assembled)
    assert list(assembled.parent.glob("*.partial")) == []


def test_an_intact_file_is_not_rebuilt(assembled: Path) -> None:
    inode = assembled.stat().st_ino
    assert assemble(GEMMA_270M, assembled.parent).stat().st_ino == inode


def test_a_touched_but_unchanged_file_is_rehashed_and_kept(assembled: Path) -> None:
    inode = assembled.stat().st_ino
    os.utime(assembled)
    assert assemble(GEMMA_270M, assembled.parent).stat().st_ino == inode


@pytest.mark.parametrize("damage", ["truncate", "flip-a-byte", "delete"])
def test_a_partial_or_corrupt_file_is_rebuilt(assembled: Path, damage: str) -> None:
    if damage == "truncate":
        with assembled.open("r+b") as f:
            f.truncate(GEMMA_270M.size // 3)
    elif damage == "flip-a-byte":
        with assembled.open("r+b") as f:
            f.seek(GEMMA_270M.size // 2)
            byte = f.read(1)
            f.seek(GEMMA_270M.size // 2)
            f.write(bytes([byte[0] ^ 0xFF]))
    else:
        assembled.unlink()
    assert not is_intact(GEMMA_270M, assembled)
    assemble(GEMMA_270M, assembled.parent)
    assert is_intact(GEMMA_270M, assembled)


def test_a_missing_package_says_what_to_install() -> None:
    missing = dataclasses.replace(GEMMA_270M, parts=(("no_such_model_part", "data/x"),),
                                  install_hint="pip install no-such-model-part")
    with pytest.raises(ModelError, match="not installed") as caught:
        assemble(missing)
    assert caught.value.hint == "pip install no-such-model-part"


def test_a_gguf_path_or_a_packaged_name(assembled: Path) -> None:
    assert resolve_gguf(str(assembled)) == assembled
    with pytest.raises(ModelError, match=r"neither a packaged model nor a \.gguf file"):
        resolve_gguf("no-such-model")
