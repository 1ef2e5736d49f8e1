"""Ending a conversation at the terminal (`koe chat`, `koe run`): its summary is written to
memory, saying so since the model may take a while; a Ctrl-C meanwhile stores the instant
extractive summary instead. The model server and the memory store are released either way."""

from __future__ import annotations

import asyncio
import sys

from koe.voice.conversation.conversation import Conversation


def end_conversation(runner: asyncio.Runner, conversation: Conversation,
                     summarize: bool) -> None:
    try:
        runner.run(_summarize(conversation, summarize))
    except KeyboardInterrupt:
        if conversation.summarized:
            print("koe: saved a quick summary instead", file=sys.stderr, flush=True)
    finally:
        runner.run(release(conversation))


async def _summarize(conversation: Conversation, summarize: bool) -> None:
    # Said from inside the task: by now a Ctrl-C cancels it (and the quick summary is kept)
    # rather than landing anywhere.
    if summarize and conversation.summary_due:
        print("koe: saving a summary of this conversation in memory... "
              "(Ctrl-C: a quick one instead)", file=sys.stderr, flush=True)
    await conversation.close(summarize=summarize)


async def release(conversation: Conversation) -> None:
    """Stop the model server (when koe started it) and close the memory store."""
    try:
        await conversation.llm.aclose()
    finally:
        if conversation.memory:
            await conversation.memory.close()
