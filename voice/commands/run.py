"""`koe run`: the hands-free voice loop, on sound devices or (for tests) on audio files."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from koe.config.schema import Settings
    from koe.voice.assistant.loop import Assistant
    from koe.voice.assistant.parts import Parts
    from koe.voice.assistant.report import TurnReport
    from koe.voice.assistant.status import ConsoleView
    from koe.voice.audio.chunks import AudioSink, AudioSource
    from koe.voice.audio.echo.farend import FarEnd
    from koe.voice.s2s.realtime_loop import RealtimeAssistant

# How often to look for a lost sound device again.
DEVICE_RETRY_SECONDS = 2.0
NAME_MAX = 255  # bytes in one file name, on the file systems koe runs on


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="talk with koe: listen, answer aloud, remember",
        description="The voice assistant: listens on the microphone, answers aloud and "
        "remembers every turn, until Ctrl-C (a second Ctrl-C skips the closing summary). "
        "With --input it listens to an audio file at real-time pace instead, and with "
        "--output writes what it would have said on the same timeline.")
    p.add_argument("--input-device", metavar="NAME|INDEX",
                   help="microphone (audio.input_device; `koe devices` lists them)")
    p.add_argument("--output-device", metavar="NAME|INDEX",
                   help="speaker (audio.output_device)")
    p.add_argument("--input", metavar="FILE", type=Path,
                   help="an audio file as the microphone (several questions: several turns)")
    p.add_argument("--output", metavar="FILE", type=Path,
                   help="with --input: a WAV file of the replies, aligned with the input")
    p.add_argument("--echo", metavar="DELAY_MS,GAIN",
                   help="with --input: koe's own voice comes back into the input, DELAY_MS "
                   "later at GAIN, as in a room (to try barge-in and echo cancellation)")
    p.add_argument("--report", metavar="PATH",
                   help="write each turn (transcript, reply, memories, stage times) as JSON; "
                   "'-' for standard output")
    p.add_argument("--mode", choices=("cascade", "realtime", "audio-chat", "auto"),
                   help="who hears and speaks: koe's own Whisper, model and voice (cascade), "
                   "a Realtime endpoint, an audio chat-completions endpoint, or auto: the "
                   "endpoint if it answers, else the cascade (s2s.mode; the endpoint is s2s.url)")
    p.add_argument("--endpoint", help="OpenAI-compatible base URL, or 'local' (llm.endpoint)")
    p.add_argument("--model", help="model name sent to the endpoint (llm.model)")
    p.add_argument("--no-memory", action="store_true",
                   help="neither recall nor store anything this session")
    p.add_argument("--verbose", action="store_true", help="log every turn event with its time")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from koe.config.errors import KoeError
    from koe.config.loader import apply_overrides, load_settings
    from koe.voice.assistant.status import ConsoleView

    if (args.output is not None or args.echo is not None) and args.input is None:
        raise KoeError(f"{'--output' if args.output else '--echo'} needs --input",
                       hint="koe run --input questions.wav --output replies.wav; without "
                       "them koe uses the sound devices")
    if args.echo is not None:
        from koe.voice.audio.echo.room import parse_echo

        args.echo = parse_echo(args.echo)
    for what, path in (("the report", args.report), ("the replies", args.output)):
        if path is not None and str(path) != "-":
            _check_writable(Path(path), what)
    if args.input is not None:
        from koe.voice.audio.files import decode_file

        decode_file(args.input)  # a missing or unreadable file is said before models load
    settings = apply_overrides(load_settings(args.config), {
        "llm.endpoint": args.endpoint, "llm.model": args.model,
        "audio.input_device": args.input_device, "audio.output_device": args.output_device,
        "s2s.mode": args.mode,
    }, "command line")
    if settings.s2s.mode not in ("cascade", "auto"):
        from koe.voice.s2s.endpoint import S2sEndpoint

        S2sEndpoint.from_settings(settings.s2s)  # no endpoint: said before models load
    if args.input is None:
        from koe.voice.audio.echo.farend import FarEnd

        _devices(settings, args, FarEnd())  # no microphone or speaker: said before models load
    view = ConsoleView(out=None if args.report == "-" else sys.stdout, verbose=args.verbose)
    try:
        reports = _converse(settings, args, view)
    finally:
        view.close()
    if args.report:
        _write_report(reports, args.report)
    return 0


def _converse(settings: Settings, args: argparse.Namespace,
              view: ConsoleView) -> list[TurnReport]:
    from koe.voice.assistant.parts import Parts
    from koe.voice.audio.echo.canceller import open_canceller
    from koe.voice.audio.echo.farend import FarEnd
    from koe.voice.conversation.ending import end_conversation
    from koe.voice.s2s.loop import build_loop
    from koe.voice.s2s.mode import choose_mode, provider_for

    with asyncio.Runner() as runner:
        choice = runner.run(choose_mode(settings.s2s))
        if choice.why:  # said whether or not on a terminal: the run is not what was asked
            print(f"koe: no speech-to-speech endpoint ({choice.why}); using the cascade",
                  file=sys.stderr, flush=True)
        if choice.mode == "cascade":
            view.note("loading Whisper, the voice, memory and the language model...")
        else:
            view.note(f"{choice.mode} at {settings.s2s.url}; loading Whisper, the voice and "
                      "memory...")
        # One canceller for the whole run: it learns the room as koe speaks, turn after turn.
        far = FarEnd()
        canceller = open_canceller(far, "auto" if settings.listen.barge_in else "none")
        provider = provider_for(choice.mode, settings.llm, settings.s2s)
        parts: Parts = runner.run(Parts.load(settings, remember=not args.no_memory,
                                             provider=provider))
        loop = build_loop(choice.mode, settings, parts, view, canceller.near)
        try:
            runner.run(_listen(loop.assistant, settings, args, view, far))
        except KeyboardInterrupt:
            pass  # Ctrl-C: the conversation ends here
        finally:
            runner.run(loop.aclose())
            end_conversation(runner, parts.conversation, settings.chat.summarize)
        return loop.assistant.reports


async def _listen(assistant: Assistant | RealtimeAssistant, settings: Settings,
                  args: argparse.Namespace, view: ConsoleView, far: FarEnd) -> None:
    """Converse on the devices; when one goes away, say so and go on once it is back."""
    from koe.config.errors import AudioError
    from koe.voice.assistant.events import Trouble

    while True:
        microphone, speaker = _devices(settings, args, far)
        try:
            async with speaker, microphone:  # the clock starts now: koe is ready
                view.note(f"listening to {args.input}" if args.input else
                          "listening; Ctrl-C ends")
                await assistant.run(microphone, speaker)
            return
        except AudioError as exc:
            if args.input is not None:
                raise
            view(Trouble(assistant.now(), exc.message, "waiting for it to come back"))
            await _wait_for_devices(settings, args, far)


async def _wait_for_devices(settings: Settings, args: argparse.Namespace, far: FarEnd) -> None:
    from koe.config.errors import AudioError
    from koe.voice.audio.devices import rescan

    while True:
        await asyncio.sleep(DEVICE_RETRY_SECONDS)
        try:
            await asyncio.to_thread(rescan)
            _devices(settings, args, far)
            return
        except AudioError:
            continue


def _devices(settings: Settings, args: argparse.Namespace, far: FarEnd
             ) -> tuple[AudioSource, AudioSink]:
    """Microphone and speaker; the speaker lays what it plays on `far` for the canceller."""
    from koe.voice.audio.echo.room import EchoRoom
    from koe.voice.audio.filemode import FileMicrophone, FileSpeaker
    from koe.voice.audio.microphone import Microphone
    from koe.voice.audio.speaker import Speaker

    if args.input is not None:
        room = EchoRoom(far, *args.echo) if args.echo else None
        return FileMicrophone(args.input, room=room), FileSpeaker(args.output, far=far)
    return (Microphone.from_settings(settings.audio),
            Speaker.from_settings(settings.audio, far=far))


def _check_writable(path: Path, what: str) -> None:
    """A file written when the run ends must be writable now, before the models load and
    the conversation starts, not found unwritable after it."""
    from koe.config.errors import KoeError, one_line

    if len(os.fsencode(path.name)) > NAME_MAX:
        raise KoeError(f"cannot write {what} to {one_line(str(path), 80)}: the name is too long")
    folder = path.parent
    if not folder.is_dir():
        raise KoeError(f"cannot write {what} to {path}: no such folder {folder}")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".koe-write-check-"):
            pass
    except OSError as exc:
        reason = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise KoeError(f"cannot write {what} in {folder}: {reason.lower()}") from exc


def _write_report(reports: list[TurnReport], where: str) -> None:
    from koe.voice.assistant.report import write_report

    if where == "-":
        write_report(reports, sys.stdout)
        return
    with open(where, "w", encoding="utf-8") as out:
        write_report(reports, out)
