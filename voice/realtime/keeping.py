"""What the conversation keeps of a reply: stored when the response ends, cut on truncation.

A response ends before the server knows how much of it the client played. So the reply is
stored as sent (marked interrupted when cancelled), and a later `conversation.item.truncate`
rewrites that memory record and the prompt's history to the words heard up to `audio_end_ms`,
as `koe run` keeps the words that reached its speaker.
"""

from __future__ import annotations

import asyncio
import dataclasses

from koe.voice.conversation.conversation import Conversation, Draft
from koe.voice.realtime.items import AssistantItem


async def keep_reply(conversation: Conversation, draft: Draft, item: AssistantItem,
                     interrupted: bool) -> None:
    """Store the reply as sent and add it to the prompt's history."""
    before = len(draft.record_ids)
    await conversation.finish_draft(draft, spoken=item.transcript, interrupted=interrupted)
    if len(draft.record_ids) > before:
        item.record_id = draft.record_ids[-1]


async def keep_heard(conversation: Conversation, item: AssistantItem, heard: str) -> None:
    """The listener heard only `heard` of the reply: the stored turn and the history say so."""
    prompt = conversation.prompt
    for i, exchange in enumerate(prompt.exchanges):
        if item.record_id is not None and item.record_id in exchange.record_ids:
            if heard:
                prompt.exchanges[i] = dataclasses.replace(exchange, reply=heard)
            else:  # nothing reached the listener: the turn is not in the history at all
                del prompt.exchanges[i]
            break
    memory = conversation.memory
    if memory is None or item.record_id is None:
        return
    store, record_id = memory.store, item.record_id

    def rewrite() -> None:
        for record in store.get([record_id]):
            store.add_many([dataclasses.replace(record, interrupted=True, spoken=heard)])

    await asyncio.shield(asyncio.to_thread(rewrite))


async def truncate(conversation: Conversation, item: AssistantItem, audio_end_ms: int) -> None:
    """The client played `audio_end_ms` of the item (at most all of it): keep what was heard."""
    item.truncated_ms = min(audio_end_ms, item.audio_ms)
    await keep_heard(conversation, item, item.heard(item.truncated_ms))
