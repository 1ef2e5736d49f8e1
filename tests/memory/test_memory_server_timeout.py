"""memory.timeout bounds every request to a Chroma server, the first ones included: a server
that accepts and never answers, or stops answering mid-session, gives one line, not a hang."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

from koe.config.schema import MemorySettings
from koe.memory.errors import StoreUnavailableError
from koe.memory.store import MemoryStore
from tests.memory.helpers import StallingProxy, run_koe, silent_server, write_config

# A generous bound for the child: what the test waits before calling it a hang. The
# assertions are on what koe says, not on how long it took.
HANG = 90


def test_a_server_that_never_answers_does_not_hang_stats(tmp_path: Path) -> None:
    with silent_server() as url:
        config = write_config(tmp_path / "koe.toml", url=url, timeout=1.0)
        try:
            ran = run_koe("--config", str(config), "memory", "stats", timeout=HANG)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`koe memory stats` hung on a server that never answers ({url})")
        assert ran.code == 1
        assert ran.err.startswith(f"koe: error: the Chroma server at {url} does not answer")
        assert "memory.timeout" in ran.err and len(ran.err.strip().splitlines()) == 2
        with pytest.raises(StoreUnavailableError, match="does not answer"):
            MemoryStore.open(MemorySettings(url=url, timeout=0.5))


def test_a_server_that_stops_answering_mid_session(chroma_server: str) -> None:
    parsed = urlparse(chroma_server)
    assert parsed.hostname and parsed.port
    with StallingProxy((parsed.hostname, parsed.port)) as proxy:
        settings = MemorySettings(url=proxy.url, collection="stall-test", timeout=1.0)
        with MemoryStore.open(settings) as store:
            store.add_turn("user", "said before the server went quiet", "c")
            proxy.stall()
            with pytest.raises(StoreUnavailableError,
                               match=r"did not answer within 1 s \(memory.timeout\)"):
                store.count()
            with pytest.raises(StoreUnavailableError):
                store.add_turn("user", "said after", "c")
