"""`koe memory ...`: add, search, list, forget, export, import and inspect long-term memory."""

from __future__ import annotations

import argparse

from koe.memory.records import SOURCES
from koe.voice.commands.memory.browse import (
    run_add,
    run_compact,
    run_conversations,
    run_list,
    run_search,
    run_stats,
)
from koe.voice.commands.memory.common import count, window_args
from koe.voice.commands.memory.forget import register_forget
from koe.voice.commands.memory.transfer import run_export, run_import


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("memory", help="long-term memory: search, list, forget, export",
                              description="What koe remembers, and control over it.")
    sub = p.add_subparsers(dest="memory_command", required=True, metavar="ACTION")

    a = sub.add_parser("add", help="remember a text")
    a.add_argument("text", metavar="TEXT", help="the text, or - to read it from standard input")
    a.add_argument("--role", choices=("user", "assistant"), default="user")
    a.add_argument("--at", metavar="TIME", help="when it was said (ISO time or 'yesterday')")
    a.add_argument("--conversation", metavar="ID", help="conversation id (default: a new one)")
    a.add_argument("--id", metavar="ID",
                   help="the memory's id; adding again with the same id replaces it, so a "
                        "failed add can be retried without storing it twice")
    a.add_argument("--json", action="store_true", help="print the stored memory as JSON")
    a.set_defaults(run=run_add)

    s = sub.add_parser("search", help="find memories by meaning (and time)")
    s.add_argument("query", metavar="QUERY")
    s.add_argument("-k", type=count, default=5, metavar="N", help="how many (default 5)")
    window_args(s)
    s.add_argument("--conversation", metavar="ID")
    s.add_argument("--json", action="store_true", help="one JSON object per line")
    s.set_defaults(run=run_search)

    li = sub.add_parser("list", help="memories in time order")
    li.add_argument("--conversation", metavar="ID")
    li.add_argument("--source", choices=SOURCES,
                    help="only what came this way (recording: remembered recordings)")
    window_args(li)
    li.add_argument("--limit", type=count, metavar="N", help="only the newest N (1 or more)")
    li.add_argument("--json", action="store_true", help="one JSON object per line")
    li.set_defaults(run=run_list)

    c = sub.add_parser("conversations", help="one line per conversation")
    c.add_argument("--json", action="store_true", help="one JSON object per line")
    c.set_defaults(run=run_conversations)

    register_forget(sub)

    e = sub.add_parser("export", help="write every memory as JSON lines")
    e.add_argument("--format", choices=("jsonl",), default="jsonl")
    e.add_argument("-o", "--output", metavar="FILE",
                   help="default: standard output; the file is replaced only once the whole "
                        "export is written, and is readable by you alone")
    e.set_defaults(run=run_export)

    i = sub.add_parser("import", help="read memories from a JSON lines export")
    i.add_argument("file", metavar="FILE", help="a file, or - for standard input")
    i.set_defaults(run=run_import)

    st = sub.add_parser("stats", help="counts, size on disk, oldest and newest")
    st.add_argument("--json", action="store_true")
    st.set_defaults(run=run_stats)

    co = sub.add_parser("compact", help="rewrite the embedded store without deleted data")
    co.set_defaults(run=run_compact)
