"""The local LLM server process: llama.cpp's HTTP server (xllamacpp) on 127.0.0.1.

Run by server.py as `python -m koe.voice.llm.child ...`. Once the server listens it
prints one line, READY_PREFIX + the base URL, on stdout. It exits when its standard input
closes, which the kernel does when koe exits or is killed: no orphan server survives koe.
"""

from __future__ import annotations

import argparse
import os
import sys

READY_PREFIX = "koe-llm-ready "


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m koe.voice.llm.child")
    p.add_argument("--model", required=True)
    p.add_argument("--context-size", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--chat-template", default="")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # llama.cpp writes to stdout too; keep stdout for the ready line alone.
    ready_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the kernel picks a free port; listening_address reports it
    params.n_ctx = args.context_size
    params.n_parallel = 1  # one conversation: its whole context window in one slot
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.cache_prompt = True
    # llama.cpp also keeps every prompt the slot moves away from in RAM, up to 8 GiB by
    # default: each diverging prompt (a trimmed history, a summary, a new conversation) cost
    # ~13 MB that was never given back (+508 MB over a 200-turn soak). koe's prompts extend one
    # another in the slot's own cache, which stays on; the RAM copies are off.
    params.cache_ram_mib = 0
    # Sliding-window models (Gemma 3) otherwise reuse a cached prefix only from checkpoints.
    params.swa_full = True
    params.endpoint_metrics = True
    params.warmup = False  # saves seconds at start; the first prompt pays a little instead
    if args.chat_template:
        params.chat_template = args.chat_template

    server = xllamacpp.Server(params)  # returns once the model is loaded and listening
    ready_out.write(f"{READY_PREFIX}{server.listening_address}\n")
    ready_out.close()

    sys.stdin.buffer.read()  # blocks until koe closes the pipe or dies
    os._exit(0)  # skip slow native teardown: the process is going away


if __name__ == "__main__":
    main()
