"""A fault-injecting OpenAI-compatible server for the LLM client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fault_server import FaultServer, running_fault_server


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    with running_fault_server() as server:
        yield server
