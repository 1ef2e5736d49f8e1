"""Helpers for the LLM tests: settings for the Gemma plumbing model, reading a child's output."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import IO

from koe.config.schema import LlmSettings, LocalLlmSettings

# Gemma 3 270M is a base model without a chat template of its own: ChatML gives it turns.
GEMMA_TEMPLATE = "chatml"


def gemma_settings(gemma_path: Path, **llm: object) -> LlmSettings:
    local = LocalLlmSettings(model=str(gemma_path), context_size=2048,
                             chat_template=GEMMA_TEMPLATE)
    return LlmSettings(local=local, **llm)


def read_until(stream: IO[str], marker: str, count: int) -> bool:
    """Read `stream` until `marker` was seen `count` times (in a thread: reads block)."""
    seen = threading.Event()

    def read() -> None:
        text = ""
        while (ch := stream.read(1)):
            text += ch
            if text.count(marker) >= count:
                seen.set()
                return
    threading.Thread(target=read, daemon=True).start()
    return seen.wait(120)
