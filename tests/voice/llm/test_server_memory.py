"""The local server's memory stays put however many different prompts it reads: llama.cpp's
RAM copies of old prompts (up to 8 GiB by default) are off."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from koe.voice.llm.server import LocalServer

pytestmark = pytest.mark.slow


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def test_prompts_that_part_ways_do_not_pile_up(gemma_server: LocalServer) -> None:
    assert gemma_server.pid is not None
    url = f"{gemma_server.base_url}/chat/completions"

    def ask(number: int) -> None:
        # A history each time different from the first word on: every prompt parts ways with
        # the one in the slot, which llama.cpp would otherwise copy to RAM.
        history = " ".join(f"Note {number}.{j}: the user said something new." for j in range(60))
        messages = [{"role": "user", "content": f"{history} Question {number}?"}]
        httpx.post(url, json={"messages": messages, "max_tokens": 1}, timeout=120)

    ask(0)
    before = resident_mb(gemma_server.pid)
    for number in range(1, 25):
        ask(number)
    assert resident_mb(gemma_server.pid) - before < 20  # kept, it grew 240 MB here
