"""`koe chat`: a text conversation with memory, or one answer with --once."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from koe.config.schema import Settings
    from koe.voice.conversation.conversation import Conversation

PROMPT = "you> "


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "chat", help="talk with koe in the terminal (text)",
        description="A text conversation with koe's language model and memory. Every turn is "
        "remembered; Ctrl-C stops a reply, Ctrl-D or Ctrl-C at the prompt ends the chat.")
    p.add_argument("--once", metavar="QUESTION", type=question_text,
                   help="answer one question on standard output and exit")
    p.add_argument("--no-memory", action="store_true",
                   help="neither recall nor store anything this session")
    p.add_argument("--endpoint", help="OpenAI-compatible base URL, or 'local' (llm.endpoint)")
    p.add_argument("--model", help="model name sent to the endpoint (llm.model)")
    p.set_defaults(run=run)


def question_text(text: str) -> str:
    """A question as typed on the command line: something to ask, not blank."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the question is empty; ask something, e.g. "
                                         "--once 'what did I say about the dentist?'")
    return text.strip()


def run(args: argparse.Namespace) -> int:
    from koe.config.loader import apply_overrides, load_settings
    from koe.voice.conversation.ending import end_conversation

    settings = apply_overrides(load_settings(args.config),
                               {"llm.endpoint": args.endpoint, "llm.model": args.model},
                               "command line")
    with asyncio.Runner() as runner:
        conversation = runner.run(_open(settings, memory=not args.no_memory))
        try:
            if args.once is not None:
                runner.run(_answer(conversation, args.once))
            else:
                _repl(runner, conversation)
        finally:
            end_conversation(runner, conversation, settings.chat.summarize)
    return 0


async def _open(settings: Settings, memory: bool) -> Conversation:
    from koe.voice.conversation.conversation import Conversation
    from koe.voice.conversation.memory_port import ConversationMemory
    from koe.voice.llm.provider import LlmProvider

    provider = LlmProvider(settings.llm)
    store = await ConversationMemory.open(settings) if memory else None
    return Conversation(provider, store, history_tokens=settings.llm.history_tokens)


async def _answer(conversation: Conversation, question: str) -> None:
    await conversation.reply_to(question, on_delta=_print_delta)
    print(flush=True)


def _repl(runner: asyncio.Runner, conversation: Conversation) -> None:
    from koe.config.errors import KoeError, print_error

    if conversation.llm.server is not None:
        print("koe: starting the local language model...", file=sys.stderr, flush=True)
        runner.run(conversation.warm_up())
    while True:
        try:
            question = input(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return
        except UnicodeDecodeError:
            print_error("that line is not UTF-8 text", "check the terminal's encoding")
            continue
        if not question:
            continue
        try:
            runner.run(_answer(conversation, question))
        except KeyboardInterrupt:  # the reply stops; what was said is kept
            print(" [stopped]", flush=True)
        except KoeError as exc:  # said once; the turn is stored and the next may work
            print_error(exc, exc.hint)


def _print_delta(delta: str) -> None:
    sys.stdout.write(delta)
    sys.stdout.flush()
