"""The voice loop for a speech-to-speech mode, built from the loaded parts.

Audio chat and a Realtime session with local endpointing answer inside koe's own loop
(`Assistant`, with the endpoint's reply in place of the cascade's); a Realtime session with
server VAD runs its own loop (`RealtimeAssistant`). All keep memory and barge-in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from koe.config.schema import Settings
from koe.voice.assistant.clock import Cleaner
from koe.voice.assistant.events import LoopEvent
from koe.voice.assistant.loop import Assistant
from koe.voice.assistant.parts import Parts
from koe.voice.s2s.audio_chat import AudioChat
from koe.voice.s2s.endpoint import S2sEndpoint
from koe.voice.s2s.mode import Mode
from koe.voice.s2s.realtime_loop import RealtimeAssistant
from koe.voice.s2s.realtime_reply import RealtimeLink
from koe.voice.tts.splitter import SentenceSplitter


@dataclass
class Loop:
    assistant: Assistant | RealtimeAssistant
    aclose: Callable[[], Awaitable[None]]  # the endpoint's connection, when the run ends


async def _nothing() -> None:
    return None


def build_loop(mode: Mode, settings: Settings, parts: Parts,
               observe: Callable[[LoopEvent], None], clean: Cleaner) -> Loop:
    if mode == "cascade":
        return Loop(Assistant(settings, parts.hearing, parts.conversation, parts.synthesizer,
                              SentenceSplitter, observe=observe, clean=clean), _nothing)
    endpoint = S2sEndpoint.from_settings(settings.s2s)
    if mode == "realtime" and settings.s2s.turn_detection == "server":
        return Loop(RealtimeAssistant(settings, endpoint, parts.conversation,
                                      parts.synthesizer, observe=observe, clean=clean),
                    _nothing)
    # The endpoint answers inside koe's loop: no read-ahead, there is no local model.
    assistant = Assistant(settings, parts.hearing, parts.conversation, parts.synthesizer,
                          SentenceSplitter, observe=observe, read_ahead=False, clean=clean)
    if mode == "audio-chat":
        client: AudioChat | RealtimeLink = AudioChat(endpoint)
    else:
        client = RealtimeLink(endpoint, parts.conversation.prompt.system_message().content)
    assistant.new_reply = client.maker(parts.conversation, assistant.now)
    return Loop(assistant, client.aclose)
