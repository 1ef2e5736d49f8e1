"""`koe serve realtime|chat`: koe's own models as a speech-to-speech endpoint.

`realtime` speaks the Realtime protocol over WebSockets (/v1/realtime), `chat` audio chat
completions over HTTP (/v1/chat/completions); both answer with Whisper, memory, the local
model and Piper. Bound to 127.0.0.1 unless told otherwise, and then only with a bearer key.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from koe.voice.realtime.access import Access
    from koe.voice.realtime.cascade import Cascade

DEFAULT_PORTS = {"realtime": 8765, "chat": 8766}
URLS = {"realtime": "ws://{host}:{port}/v1/realtime",
        "chat": "http://{host}:{port}/v1/chat/completions"}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve", help="serve koe's models as a speech-to-speech endpoint",
        description="Serve koe's cascade (Whisper, memory, the language model, Piper) to any "
        "client: 'realtime' speaks the Realtime protocol over WebSockets, 'chat' audio chat "
        "completions over HTTP. Every conversation is remembered. Ctrl-C stops.")
    p.add_argument("protocol", choices=sorted(DEFAULT_PORTS), help="what to serve")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other needs "
                   "--api-key-env)")
    p.add_argument("--port", type=int, help="TCP port (default 8765 realtime, 8766 chat; "
                   "0: any free one)")
    p.add_argument("--api-key-env", metavar="NAME",
                   help="environment variable holding the key clients must send as "
                   "'Authorization: Bearer <key>'")
    p.add_argument("--no-memory", action="store_true",
                   help="neither recall nor store anything")
    p.add_argument("--endpoint", help="OpenAI-compatible base URL, or 'local' (llm.endpoint)")
    p.add_argument("--model", help="model name sent to the endpoint (llm.model)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from koe.config.loader import apply_overrides, load_settings
    from koe.voice.realtime.access import Access

    port = DEFAULT_PORTS[args.protocol] if args.port is None else args.port
    access = Access.resolve(args.host, port, args.api_key_env)
    _check_bindable(access)  # a taken port or a bad host is said before the models load
    settings = apply_overrides(load_settings(args.config),
                               {"llm.endpoint": args.endpoint, "llm.model": args.model},
                               "command line")
    from koe.voice.realtime.cascade import Cascade

    with asyncio.Runner() as runner:
        print("koe: loading Whisper, the voice, memory and the language model...",
              file=sys.stderr, flush=True)
        cascade = runner.run(Cascade.load(settings, remember=not args.no_memory))
        try:
            runner.run(_serve(args.protocol, cascade, access))
        except KeyboardInterrupt:
            pass  # Ctrl-C: the server stops here
        finally:
            _end(runner, cascade)
    return 0


async def _serve(protocol: str, cascade: Cascade, access: Access) -> None:
    from koe.voice.realtime.access import bind_error

    if protocol == "realtime":
        from koe.voice.realtime.server import RealtimeServer

        server = RealtimeServer(cascade, access)
    else:
        from koe.voice.realtime.chat import ChatServer

        server = ChatServer(cascade, access)
    try:
        port = await server.start()
    except OSError as exc:
        raise bind_error(access, exc) from None
    print(f"koe: serving {URLS[protocol].format(host=access.host, port=port)}; Ctrl-C stops",
          file=sys.stderr, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def _end(runner: asyncio.Runner, cascade: Cascade) -> None:
    """Summarise the conversations still open (a second Ctrl-C: quick summaries), release."""
    if cascade.summaries_due:
        print("koe: saving summaries of the conversations in memory... "
              "(Ctrl-C: quick ones instead)", file=sys.stderr, flush=True)
    try:
        runner.run(cascade.close())
    except KeyboardInterrupt:
        print("koe: saved quick summaries instead", file=sys.stderr, flush=True)


def _check_bindable(access: Access) -> None:
    from koe.voice.realtime.access import bind_error

    try:
        infos = socket.getaddrinfo(access.host, access.port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        raise bind_error(access, exc) from None
