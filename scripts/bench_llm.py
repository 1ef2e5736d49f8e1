"""Benchmark koe's LLM turn on the local llama.cpp server.

Measures, in one run on one server:
  - joining the packaged model (once) and the server's start-up time;
  - time to first token (TTFT) and generation tokens/s, cold (nothing cached) and warm (the
    same prompt again), with and without a 10-item memory block;
  - a 5-turn conversation with real memory recall (10 memories per turn): TTFT per turn and the
    prompt tokens the server reused from its cache; then the same with each question read
    ahead (`Conversation.prefill`) as the voice loop can while the user is still speaking;
  - koe's client overhead: TTFT through ChatClient versus a bare httpx request, interleaved.

    python scripts/bench_llm.py [--model NAME_OR_GGUF] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from koe.config.schema import LlmSettings, LocalLlmSettings, Settings
from koe.voice.conversation.prompt import ConversationPrompt, user_message
from koe.voice.llm.client import ChatClient
from koe.voice.llm.types import Message

MEMORY_ITEMS = 10
FACTS = [  # (days ago, what the user said)
    (40, "My sister Hannah's birthday is on the 14th of March."),
    (40, "Hannah loves gardening and anything to do with roses."),
    (35, "I adopted a grey cat called Miso last spring."),
    (35, "Miso is scared of the vacuum cleaner and hides under the bed."),
    (30, "My daughter Emma started violin lessons on Tuesdays."),
    (30, "Emma's violin teacher is called Mr. Okafor."),
    (25, "I work as a nurse at St. Mary's hospital, mostly night shifts."),
    (25, "My favourite food is my grandmother's mushroom risotto."),
    (20, "I am training for a half marathon in October."),
    (20, "My running partner is my neighbour, Luis."),
    (15, "We are planning a trip to Lisbon in the summer."),
    (15, "I want to visit the Gulbenkian museum in Lisbon."),
    (10, "My car is a blue 2014 Honda Jazz that needs new brakes."),
    (10, "The mechanic said the brakes will cost about 300 euros."),
    (7, "I am reading a novel by Kazuo Ishiguro, Klara and the Sun."),
    (5, "Hannah is allergic to lilies, so no lilies in bouquets."),
    (3, "Emma has a violin recital on the 12th of December."),
    (2, "Miso had a check-up at the vet and is healthy."),
    (1, "I slept badly after three night shifts in a row."),
    (1, "Luis and I ran 15 kilometres on Sunday."),
]
CONVERSATION = [
    "What did I tell you about my sister's birthday?",
    "What would be a good present for her?",
    "Should I get her flowers then?",
    "How did my cat do at the vet?",
    "And when is Emma's violin recital?",
]


@dataclass
class Measure:
    ttft: float
    tokens_per_second: float
    prompt_tokens: int
    cached_tokens: int


async def measure(client: ChatClient, messages: Sequence[Message], max_tokens: int) -> Measure:
    started = time.perf_counter()
    reply = client.stream(messages, max_tokens=max_tokens, temperature=0.0)
    async for _ in reply:
        pass
    total = time.perf_counter() - started
    stats = reply.stats
    ttft = stats.first_token_seconds or total
    generated = max((stats.completion_tokens or 1) - 1, 1)
    return Measure(ttft, generated / max(total - ttft, 1e-6), stats.prompt_tokens or 0,
                   stats.cached_tokens or 0)


async def bare_httpx_ttft(http: httpx.AsyncClient, url: str, payload: dict) -> float:
    """The baseline: the same request with httpx alone, until the first text delta."""
    started = time.perf_counter()
    async with http.stream("POST", url, json=payload) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: {"):
                continue
            choices = json.loads(line[6:]).get("choices") or [{}]
            if choices[0].get("delta", {}).get("content"):
                return time.perf_counter() - started
    raise RuntimeError("no text came back")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# --- memory ------------------------------------------------------------------------------------

def seed_memory(settings: Settings):
    """A new memory store in a new folder, holding FACTS said on earlier days."""
    from koe.memory.store import MemoryStore

    folder = tempfile.mkdtemp(prefix="koe-bench-memory-")
    store = MemoryStore.open(settings.memory.model_copy(update={"path": folder}))
    now = datetime.now().astimezone()
    for days, text in FACTS:
        at = (now - timedelta(days=days, hours=2)).timestamp()
        conversation = f"past-{days}"
        store.add_turn("user", text, conversation, at=at, source="text")
        store.add_turn("assistant", "I'll remember that.", conversation, at=at + 5,
                       source="text")
    return store


def ten_memories(store, question: str) -> str:
    from koe.memory.recall import memory_block, recall

    return memory_block(recall(store, question, k=MEMORY_ITEMS))


# --- the sections --------------------------------------------------------------------------------

async def single_requests(client: ChatClient, block: str, repeats: int, max_tokens: int) -> None:
    question = "What should I get my sister for her birthday?"
    print(f"\nSingle requests (median of {repeats}; {max_tokens} tokens generated):")
    print(f"  {'prompt':<34} {'TTFT s':>8} {'gen tok/s':>10} {'prompt tok':>11} {'cached':>7}")
    for label, memories in (("no memory", ""), (f"{MEMORY_ITEMS}-item memory block", block)):
        cold, warm = [], []
        for _ in range(repeats):
            # A new first line defeats the prompt cache: the whole prompt is read.
            system = Message("system", f"Session {uuid.uuid4().hex}. "
                             + ConversationPrompt().system_message().content)
            messages = [system, Message("user", user_message(question, memories))]
            cold.append(await measure(client, messages, max_tokens))
            warm.append(await measure(client, messages, max_tokens))
        for kind, runs in (("cold", cold), ("warm", warm)):
            print(f"  {kind + ', ' + label:<34} {median([m.ttft for m in runs]):>8.3f} "
                  f"{median([m.tokens_per_second for m in runs]):>10.1f} "
                  f"{runs[0].prompt_tokens:>11} {runs[0].cached_tokens:>7}")


async def conversations(settings: Settings, provider, repeats: int, prefill: bool) -> None:
    from koe.voice.conversation.conversation import Conversation
    from koe.voice.conversation.memory_port import ConversationMemory

    print(f"\nConversation, {len(CONVERSATION)} turns, {MEMORY_ITEMS} memories recalled per "
          f"turn (memories already in the prompt are not quoted again), {repeats} runs, each "
          "with a new store seeded with the same facts; medians:")
    if prefill:
        print("  with a prefill of each question but its last two words (as while the user "
              "is still speaking), finished before the question is final:")
    per_turn: list[list] = [[] for _ in CONVERSATION]
    for _ in range(repeats):
        memory = ConversationMemory(await asyncio.to_thread(seed_memory, settings), MEMORY_ITEMS)
        conversation = Conversation(provider, memory,
                                    history_tokens=settings.llm.history_tokens)
        await conversation.warm_up()  # as koe does at start-up
        for i, question in enumerate(CONVERSATION):
            if prefill:
                await conversation.prefill(question.rsplit(" ", 2)[0])
            await conversation.reply_to(question)
            per_turn[i].append(conversation.turns[-1])
        await memory.close()
    print(f"  {'turn':<5} {'TTFT s':>8} {'prompt tok':>11} {'cached':>7} {'new':>5} "
          f"{'quoted':>7} {'reply tok':>10}  question")
    for i, turns in enumerate(per_turn):
        stats = [t.stats for t in turns]

        def mid(values: list) -> float:
            return median([v or 0 for v in values])
        print(f"  {i + 1:<5} {mid([s.first_token_seconds for s in stats]):>8.3f} "
              f"{mid([s.prompt_tokens for s in stats]):>11.0f} "
              f"{mid([s.cached_tokens for s in stats]):>7.0f} "
              f"{mid([s.prompt_tokens - s.cached_tokens for s in stats]):>5.0f} "
              f"{mid([t.memories_quoted for t in turns]):>7.0f} "
              f"{mid([s.completion_tokens for s in stats]):>10.0f}  {CONVERSATION[i]}")
    for i, turn in enumerate(per_turn):
        print(f"  reply {i + 1} (last run): {turn[-1].reply[:120]!r}")


async def client_overhead(client: ChatClient, base_url: str, pairs: int) -> None:
    messages = [ConversationPrompt().system_message(), Message("user", "Say hello.")]
    payload = {"messages": [{"role": m.role, "content": m.content} for m in messages],
               "stream": True, "stream_options": {"include_usage": True},
               "temperature": 0.0, "max_tokens": 1}
    koe, bare = [], []
    async with httpx.AsyncClient(timeout=60) as http:
        await bare_httpx_ttft(http, f"{base_url}/chat/completions", payload)  # warm the cache
        for _ in range(pairs):
            koe.append((await measure(client, messages, max_tokens=1)).ttft)
            bare.append(await bare_httpx_ttft(http, f"{base_url}/chat/completions", payload))
    k, b = median(koe), median(bare)
    paired = median([x - y for x, y in zip(koe, bare, strict=True)])
    print(f"\nClient overhead, warm one-token replies, {pairs} interleaved pairs (median):")
    print(f"  bare httpx {b * 1000:.1f} ms, koe ChatClient {k * 1000:.1f} ms "
          f"(ratio {k / b:.3f}); koe adds {paired * 1000:+.1f} ms (median of pair differences)")


def timed(what: str, fn: Callable[[], object]) -> object:
    started = time.perf_counter()
    result = fn()
    print(f"{what}: {time.perf_counter() - started:.2f} s")
    return result


async def main(args: argparse.Namespace) -> None:
    from koe.voice.llm.models import resolve_gguf
    from koe.voice.llm.provider import LlmProvider

    os.environ["KOE_HOME"] = args.home or tempfile.mkdtemp(prefix="koe-bench-")
    print(f"koe LLM benchmark, {datetime.now():%Y-%m-%d %H:%M}, model {args.model}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    model_path = timed("model joined and checked (first run joins, later runs only check)",
                       lambda: resolve_gguf(args.model))
    local = LocalLlmSettings(model=str(model_path), threads=args.threads)
    # A busy machine can take minutes over a cold prompt: measure it, do not give up.
    settings = Settings(llm=LlmSettings(local=local, first_token_timeout=600))
    provider = LlmProvider(settings.llm)
    started = time.perf_counter()
    client = await provider.client()
    print(f"server ready (process start to /health ok): {time.perf_counter() - started:.2f} s")

    store = seed_memory(settings)
    block = ten_memories(store, "What should I get my sister for her birthday?")
    store.close()
    try:
        await single_requests(client, block, args.repeats, args.max_tokens)
        for prefill in (False, True):
            await conversations(settings, provider, args.repeats, prefill)
        await client_overhead(await provider.client(), provider.server.base_url, args.pairs)
    finally:
        await provider.aclose()
    print("load average (1, 5, 15 min) at the end: "
          + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--home", help="KOE_HOME to use (default: a new temporary folder)")
    asyncio.run(main(parser.parse_args()))
