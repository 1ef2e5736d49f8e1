"""The net under every command: OS errors and the unforeseen, each said in one line."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from koe.voice.failures import MESSAGE_CHARS, os_failure, shorten, unexpected_failure


def test_a_full_disk_is_called_one_and_names_the_file() -> None:
    error = os_failure(OSError(errno.ENOSPC, "No space left on device", "/data/out.txt"))
    assert error.message == "/data/out.txt: disk full" and "free some space" in error.hint


def test_a_denied_folder_inside_koe_home_points_at_koe_home(
        koe_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error = os_failure(PermissionError(errno.EACCES, "Permission denied",
                                       str(koe_home / "data" / "memory")))
    assert error.message.startswith(str(koe_home / "data" / "memory"))
    assert f"KOE_HOME ({koe_home})" in error.hint


def test_a_denied_folder_elsewhere_says_permissions(tmp_path: Path) -> None:
    error = os_failure(PermissionError(errno.EACCES, "Permission denied", "/srv/out"))
    assert error.message == "/srv/out: permission denied" and "permissions" in error.hint


def test_a_name_too_long_is_not_printed_whole() -> None:
    error = os_failure(OSError(errno.ENAMETOOLONG, "File name too long", "x" * 100_000))
    assert len(error.message) < 100 and error.message.endswith("file name too long")


def test_an_unforeseen_failure_is_one_line_that_says_so() -> None:
    error = unexpected_failure(ValueError("line one\nline two"))
    assert "\n" not in error.message and error.message.startswith("unexpected ValueError")
    assert "KOE_DEBUG" in error.hint


@given(st.text())
def test_anything_shown_is_one_bounded_line(text: str) -> None:
    shown = shorten(text)
    assert "\n" not in shown and len(shown) <= MESSAGE_CHARS
