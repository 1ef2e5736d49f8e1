"""Helpers for the LLM tests: settings for the Gemma plumbing model, greedy replies for tests
that check what the model says, reading a child's output."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import IO

from koe.config.schema import LlmSettings, LocalLlmSettings, Settings

# Gemma 3 270M is a base model without a chat template of its own: ChatML gives it turns.
GEMMA_TEMPLATE = "chatml"
# A test that checks what the model said asks for its likeliest reply: sampled at the default
# temperature, the small model's replies vary from run to run, and now and then lack the very
# words a test listens for.
GREEDY_ENV = {"KOE_LLM_TEMPERATURE": "0"}


def gemma_settings(gemma_path: Path, **llm: object) -> LlmSettings:
    local = LocalLlmSettings(model=str(gemma_path), context_size=2048,
                             chat_template=GEMMA_TEMPLATE)
    return LlmSettings(local=local, **llm)


def greedy(settings: Settings) -> Settings:
    """`settings` with the model answering without sampling (as GREEDY_ENV does for `koe`)."""
    return settings.model_copy(update={"llm": settings.llm.model_copy(
        update={"temperature": 0.0})})


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
