"""Who may talk to `koe serve`: loopback without a key; elsewhere only with the bearer key."""

from __future__ import annotations

import errno

import pytest

from koe.config.errors import KoeError
from koe.voice.realtime.access import Access, bind_error


def test_loopback_needs_no_key() -> None:
    access = Access.resolve("127.0.0.1", 8765, None)
    assert access.api_key is None
    assert access.allows(None) and access.allows("Bearer anything")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_another_host_needs_a_key(host: str) -> None:
    with pytest.raises(KoeError, match="without a key") as caught:
        Access.resolve(host, 8765, None)
    assert "--api-key-env" in caught.value.hint


def test_the_key_variable_must_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOE_SERVE_KEY", raising=False)
    with pytest.raises(KoeError, match="KOE_SERVE_KEY is not set"):
        Access.resolve("0.0.0.0", 8765, "KOE_SERVE_KEY")
    monkeypatch.setenv("KOE_SERVE_KEY", "  ")
    with pytest.raises(KoeError, match="empty"):
        Access.resolve("0.0.0.0", 8765, "KOE_SERVE_KEY")


def test_the_bearer_key_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOE_SERVE_KEY", "open-sesame")
    access = Access.resolve("0.0.0.0", 8765, "KOE_SERVE_KEY")
    assert access.allows("Bearer open-sesame")
    assert access.allows("bearer open-sesame")
    for header in (None, "", "Bearer", "Bearer open", "Basic open-sesame", "open-sesame"):
        assert not access.allows(header)


def test_a_port_is_a_tcp_port() -> None:
    with pytest.raises(KoeError, match="not a TCP port"):
        Access.resolve("127.0.0.1", 70000, None)


def test_bind_errors_say_what_to_change() -> None:
    access = Access("127.0.0.1", 8765)
    taken = bind_error(access, OSError(errno.EADDRINUSE, "Address already in use"))
    assert "127.0.0.1:8765" in taken.message and "--port" in taken.hint
    unknown = bind_error(access, OSError(-2, "Name or service not known"))
    assert "--host" in unknown.hint
