"""`koe transcribe FILE...`: recordings to txt / srt / vtt / json."""

from __future__ import annotations

import argparse
import contextlib
import sys

from koe.config.loader import apply_overrides, load_settings
from koe.voice.cli import path_arg
from koe.voice.transcribe.writers import WRITERS

FORMAT_CHOICES = (*WRITERS, "all")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("transcribe", help="transcribe audio files",
                              description="Transcribe recordings with local Whisper.")
    p.add_argument("files", nargs="+", type=path_arg, metavar="FILE")
    p.add_argument("-f", "--format", action="append", choices=FORMAT_CHOICES, dest="formats",
                   help="output format; repeat for several, or 'all' (default: txt)")
    p.add_argument("-o", "--output-dir", metavar="DIR", type=path_arg,
                   help="where outputs go (default: beside each file; '-' for stdout)")
    p.add_argument("-m", "--model", help="tiny.en, base, a model folder, or a faster-whisper name")
    p.add_argument("-l", "--language", help="language code such as en or de, or auto")
    p.add_argument("--word-timestamps", action="store_true", default=None,
                   help="per-word timings in json/srt/vtt")
    p.add_argument("--beam-size", type=int, help="beam search width (default 5)")
    p.add_argument("--batch-size", type=int, help="segments decoded together on long files")
    p.add_argument("--json", action="store_true", help="JSON lines progress on stdout")
    p.add_argument("--remember", action="store_true", default=None,
                   help="also store each transcript in memory, citing the file and the time "
                        "in it (transcribe.remember)")
    p.add_argument("--at", metavar="WHEN",
                   help="with --remember: when the recording was made (default: its metadata, "
                        "else the file's modification time)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from koe.voice.stt.transcriber import Transcriber
    from koe.voice.transcribe.job import STDOUT, transcribe_files
    from koe.voice.transcribe.plan import plan_run
    from koe.voice.transcribe.progress import (
        JsonLinesReporter,
        QuietReporter,
        StdoutReporter,
        TerminalReporter,
    )

    formats = None
    if args.formats:
        formats = list(WRITERS) if "all" in args.formats else list(dict.fromkeys(args.formats))
    settings = apply_overrides(load_settings(args.config), {
        "stt.model": args.model,
        "stt.language": args.language,
        "stt.beam_size": args.beam_size,
        "transcribe.formats": formats,
        "transcribe.output_dir": None if args.output_dir is None else str(args.output_dir),
        "transcribe.word_timestamps": args.word_timestamps,
        "transcribe.batch_size": args.batch_size,
        "transcribe.remember": args.remember,
    }, source="the command line")
    if args.at is not None and not settings.transcribe.remember:
        from koe.config.errors import KoeError

        raise KoeError("--at says when a recording was made, for --remember",
                       hint="add --remember, or leave out --at")

    if args.json:
        reporter = JsonLinesReporter()
    elif settings.transcribe.output_dir == STDOUT:
        reporter = StdoutReporter(formats=tuple(settings.transcribe.formats))
    elif sys.stdout.isatty() and sys.stderr.isatty():
        reporter = TerminalReporter()
    else:
        reporter = QuietReporter()

    # Before the model loads: a run that would overwrite an input, write one output twice or
    # write into a folder it cannot is refused while nothing has been done.
    plan = plan_run(args.files, settings.transcribe)
    memory: contextlib.AbstractContextManager = contextlib.nullcontext()
    if settings.transcribe.remember:
        from koe.voice.transcribe.remember import remembering

        memory = remembering(settings, args.at, args.json)
    # The memory store opens first: a locked or unwritable store is said before an hour of
    # transcription, not after it.
    with memory as remember:
        transcriber = Transcriber.load(settings.stt)
        results = transcribe_files(plan.inputs, transcriber, settings.transcribe, reporter)
        remembered = [remember(r) for r in results
                      if remember is not None and r.transcript is not None]
    return 0 if all(r.ok for r in results) and all(remembered) else 1
