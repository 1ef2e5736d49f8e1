"""Benchmark koe's memory, with chromadb's own default embedding path as the baseline.

    python scripts/bench_memory.py                 # 1k, 10k and 100k memories (~10-15 min)
    python scripts/bench_memory.py --sizes 1000,10000 --no-compact

Measures, in one run on one machine:
- storing: turns/s in batches (embedding included), and one turn's latency (add_turn);
- searching: recall() latency p50/p95 at each store size, embedding included (also a
  question with a time phrase), and chromadb's own query_texts path on the same collection;
- quality: recall@1 / recall@5 on tests/memory/data/paraphrases.jsonl, alone and hidden
  among the store's synthetic memories, for koe and for the baseline;
- forgetting: the compaction that makes forgotten data leave the disk, at each size.
The baseline is chromadb's ONNXMiniLM_L6_V2 (its default embedding function) pointed at
local files: the same int8 model file koe uses (chromadb's own download is the float32
export, which cannot be fetched here) and a tokenizer.json built from the same vocabulary,
so the difference measured is the pipeline, not the weights.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from koe.config.schema import MemorySettings
from koe.memory.client import chroma_settings
from koe.memory.compact import compact
from koe.memory.embeddings import bert_tokenizer, packaged_model_file, packaged_vocab_file
from koe.memory.recall import recall
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore

ROOT = Path(__file__).resolve().parents[1]
PARAPHRASES = ROOT / "tests" / "memory" / "data" / "paraphrases.jsonl"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

NAMES = ["Anna", "Tom", "Priya", "Marco", "Jess", "Omar", "Chloe", "Sam", "Emma", "Ben", "Lily",
         "Leo", "Sarah", "Jake", "Rachel", "Grace", "Sofia", "Ivy", "Noah", "Maya", "Ravi",
         "Elena", "Yuki", "Kofi", "Lena", "Dmitri", "Aisha", "Pablo", "Mei", "Oscar"]
THINGS = ["the boiler", "the car", "the garden shed", "the laptop", "the kitchen tap",
          "the dentist bill", "the train tickets", "the birthday cake", "the tax return",
          "the school trip", "the bike", "the gym bag", "the printer", "the passport",
          "the wedding gift", "the concert tickets", "the dog's lead", "the new sofa",
          "the broken window", "the holiday photos", "the library books", "the spare tyre",
          "the phone charger", "the recycling bins", "the curtains", "the paint samples"]
ACTIONS = ["needs fixing", "should be picked up", "is ready", "has to be paid", "was lost",
           "arrived late", "needs booking", "is in the cupboard", "must be returned",
           "got cancelled", "was too expensive", "needs a second look", "is on the list"]
WHENS = ["before Friday", "next week", "this weekend", "after lunch", "by the end of the month",
         "on Tuesday morning", "tomorrow", "before the holidays", "in the evening", "soon"]
REPLIES = ["Okay, I'll remember that.", "Noted.", "Got it, I'll remind you.",
           "Sure, I've written that down.", "Understood."]


def synthetic(n: int, seed: int, start_id: int = 0) -> list[MemoryRecord]:
    """Plausible everyday turns spread over the year before NOW (user and assistant)."""
    rng = random.Random(seed)
    records = []
    for i in range(start_id, start_id + n):
        when = NOW - timedelta(days=rng.uniform(1, 365))
        if i % 3 == 2:
            text = f"{rng.choice(REPLIES)} {rng.choice(NAMES)} and {rng.choice(THINGS)}."
            role = "assistant"
        else:
            text = (f"{rng.choice(NAMES)} said {rng.choice(THINGS)} {rng.choice(ACTIONS)} "
                    f"{rng.choice(WHENS)}, and {rng.choice(THINGS)} {rng.choice(ACTIONS)}.")
            role = "user"
        records.append(MemoryRecord(f"s{i}", text, role, f"syn-{i // 12}", when.timestamp()))
    return records


def paraphrase_rows() -> list[dict]:
    with PARAPHRASES.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def fact_records(rows: Sequence[dict]) -> list[MemoryRecord]:
    stamp = (NOW - timedelta(days=20)).timestamp()
    return [MemoryRecord(r["id"], r["fact"], "user", f"fact-{r['topic']}", stamp) for r in rows]


def questions(rows: Sequence[dict]) -> list[tuple[str, str]]:
    return [(q, r["id"]) for r in rows for q in r["questions"]]


def pct(values: Sequence[float], p: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, p))


def timed(fn: Callable[[], object], repeats: Sequence[object] | int) -> list[float]:
    out = []
    for _ in range(repeats if isinstance(repeats, int) else len(repeats)):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def recall_at(rank: Callable[[str], list[str]], qs: Sequence[tuple[str, str]]) -> tuple[float,
                                                                                         float]:
    at1 = at5 = 0
    for question, wanted in qs:
        found = rank(question)
        at1 += found[:1] == [wanted]
        at5 += wanted in found[:5]
    return at1 / len(qs), at5 / len(qs)


# -- the baseline: chromadb's default embedding function, on local files ---------------------
def baseline_function(folder: Path) -> Callable:
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    onnx = folder / "onnx"
    onnx.mkdir(parents=True, exist_ok=True)
    shutil.copy(packaged_model_file(), onnx / "model.onnx")
    shutil.copy(packaged_vocab_file(), onnx / "vocab.txt")
    bert_tokenizer(packaged_vocab_file()).save(str(onnx / "tokenizer.json"))
    for name, content in (("config.json", {"model_type": "bert"}),
                          ("special_tokens_map.json", {}), ("tokenizer_config.json", {})):
        (onnx / name).write_text(json.dumps(content))

    class LocalDefault(ONNXMiniLM_L6_V2):
        DOWNLOAD_PATH = folder

        def _download_model_if_not_exists(self) -> None:  # must never reach the network
            assert (onnx / "model.onnx").is_file()

    return LocalDefault()


def run(args: argparse.Namespace) -> dict:
    results: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                     "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    rows = paraphrase_rows()
    facts = fact_records(rows)
    qs = questions(rows)
    work = Path(tempfile.mkdtemp(prefix="bench-memory-", dir=args.tmp))
    baseline_ef = baseline_function(work / "chroma-default")
    settings = MemorySettings(path=str(work / "store"), timezone="UTC")
    import chromadb

    store = MemoryStore.open(settings)
    try:
        log(f"paraphrase set: {len(facts)} memories, {len(qs)} questions")
        store.add_many(facts)
        results["quality_alone"] = {
            "koe": recall_at(lambda q: [r.record.id for r in recall(store, q, 5, now=NOW)], qs)}
        client = chromadb.PersistentClient(path=str(work / "baseline"), settings=chroma_settings())
        base = client.create_collection("baseline", embedding_function=baseline_ef,
                                        configuration={"hnsw": {"space": "cosine"}})
        base.add(ids=[r.id for r in facts], documents=[r.text for r in facts])
        results["quality_alone"]["chromadb-default"] = recall_at(
            lambda q: base.query(query_texts=[q], n_results=5)["ids"][0], qs)
        log(f"  {results['quality_alone']}")

        results["time_questions"] = time_questions(work / "days")
        log(f"  time questions answered from the right day: {results['time_questions']}")

        log("storing: koe add_many vs chromadb add(documents=...) with its default function")
        batch = synthetic(args.insert, seed=1, start_id=10_000_000)
        started = time.perf_counter()
        for i in range(0, len(batch), 256):
            store.add_many(batch[i:i + 256])
        koe_rate = len(batch) / (time.perf_counter() - started)
        base_batch = synthetic(args.baseline_insert, seed=2, start_id=20_000_000)
        started = time.perf_counter()
        for i in range(0, len(base_batch), 256):
            part = base_batch[i:i + 256]
            base.add(ids=[r.id for r in part], documents=[r.text for r in part],
                     metadatas=[{"t": r.timestamp, "role": r.role} for r in part])
        base_rate = len(base_batch) / (time.perf_counter() - started)
        short = [MemoryRecord(f"short{i}", facts[i % len(facts)].text, "user", "short",
                              facts[0].timestamp) for i in range(args.insert // 2)]
        started = time.perf_counter()
        for i in range(0, len(short), 256):
            store.add_many(short[i:i + 256])
        short_rate = len(short) / (time.perf_counter() - started)
        tokens = store.embedder.tokenizer.encode_batch
        results["insert_per_s"] = {
            "koe": koe_rate, "koe_short": short_rate, "chromadb-default": base_rate,
            "tokens_per_turn": statistics.mean(len(e.ids) for e in tokens([r.text for r in batch])),
            "tokens_per_short_turn": statistics.mean(len(e.ids) for e in
                                                     tokens([r.text for r in short]))}
        log(f"  {results['insert_per_s']}")
        store.delete([r.id for r in batch + short])
        client.close()

        results["sizes"] = {}
        have = 0
        for size in args.sizes:
            need = size - len(facts) - have
            log(f"growing the store to {size} memories (+{need})")
            started = time.perf_counter()
            records = synthetic(need, seed=100 + size, start_id=have)
            for i in range(0, len(records), 1000):
                store.add_many(records[i:i + 1000])
            have += need
            build = time.perf_counter() - started
            results["sizes"][size] = measure(store, qs, baseline_ef, args, build, need)
            log(f"  {json.dumps(results['sizes'][size])}")
            if args.compact:
                results["sizes"][size]["compact_s"] = measure_compaction(store)
                log(f"  compaction {results['sizes'][size]['compact_s']:.1f} s")
    finally:
        store.close()
        shutil.rmtree(work, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    return results


def measure(store: MemoryStore, qs: Sequence[tuple[str, str]], baseline_ef: Callable,
            args: argparse.Namespace, build_s: float, added: int) -> dict:
    rng = random.Random(7)
    sample = [q for q, _ in rng.sample(qs, min(args.queries, len(qs)))]
    for q in sample[:10]:  # warm up
        recall(store, q, 5, now=NOW)
    it = iter(sample * 2)
    koe = timed(lambda: recall(store, next(it), 5, now=NOW), len(sample))
    it = iter(sample * 2)
    window = timed(lambda: recall(store, next(it) + " last week", 5, now=NOW), len(sample))
    single = timed(lambda: store.add_turn("user", f"single turn {rng.random()}", "bench-single"),
                   50)
    # chromadb's own query path on this collection: its default function embeds the question
    # (what query_texts does; the collection itself is bound to koe's function).
    def base_query(q: str) -> list[str]:
        return store.collection.query(query_embeddings=baseline_ef([q]),
                                      n_results=5)["ids"][0]

    for q in sample[:5]:
        base_query(q)
    it = iter(sample * 2)
    baseline = timed(lambda: base_query(next(it)), len(sample))
    quality = recall_at(lambda q: [r.record.id for r in recall(store, q, 5, now=NOW)], qs)
    base_quality = recall_at(base_query, qs)
    return {
        "build_per_s": added / build_s if build_s else 0.0,
        "koe_search_ms": {"p50": pct(koe, 50), "p95": pct(koe, 95)},
        "koe_window_search_ms": {"p50": pct(window, 50), "p95": pct(window, 95)},
        "koe_single_add_ms": {"p50": pct(single, 50), "p95": pct(single, 95)},
        "chromadb_default_search_ms": {"p50": pct(baseline, 50), "p95": pct(baseline, 95)},
        "quality_koe": quality, "quality_chromadb_default": base_quality,
    }


DAY_TOPICS = ["the broken boiler", "Anna's birthday dinner", "the Tokyo flight", "the tax return",
              "the dog's vaccination", "the garden fence", "the school trip", "the new sofa",
              "the dentist", "the car's brakes", "the book club", "the wedding gift",
              "the gym membership", "the holiday photos"]
# (question, days ago the answer was said); NOW is Monday 1 June 2026.
DAY_QUESTIONS = [("what did we talk about yesterday?", 1), ("what did we discuss on Friday?", 3),
                 ("what did I tell you the day before yesterday?", 2),
                 ("what did we talk about last Tuesday?", 6), ("what did we chat about today?", 0),
                 ("what did I say four days ago?", 4), ("what did we talk about on Wednesday?", 5),
                 ("what did we discuss last Monday?", 7),
                 ("what did we talk about 10 days ago?", 10),
                 ("what did I tell you on May 25th?", 7)]


def time_questions(path: Path) -> dict:
    """One conversation a day for two weeks, each summarized; questions by day name."""
    from koe.memory.summary import store_summary

    right = 0
    with MemoryStore.open(MemorySettings(path=str(path), timezone="UTC")) as store:
        for days_ago, topic in enumerate(DAY_TOPICS):
            at = (NOW - timedelta(days=days_ago, hours=2)).timestamp()
            name = f"day-{days_ago}"
            store.add_many([
                MemoryRecord(f"{name}-u", f"We need to sort out {topic} soon.", "user", name, at),
                MemoryRecord(f"{name}-a", f"Okay, I'll remind you about {topic}.", "assistant",
                             name, at + 5)])
            store_summary(store, name)
        for question, days_ago in DAY_QUESTIONS:
            found = recall(store, question, 3, now=NOW)
            right += [r.record.conversation for r in found] == [f"day-{days_ago}"]
    return {"right": right, "asked": len(DAY_QUESTIONS)}


def measure_compaction(store: MemoryStore) -> float:
    started = time.perf_counter()
    compact(store)
    return time.perf_counter() - started


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def report(results: dict) -> str:
    lines = [f"Run {results['date']} on {results['cpus']} CPUs; load average before "
             f"{results['load_before'][0]:.1f}, after {results['load_after'][0]:.1f}.", ""]
    a = results["quality_alone"]
    lines += ["| paraphrase set alone | recall@1 | recall@5 |", "|---|---|---|",
              f"| koe | {a['koe'][0]:.3f} | {a['koe'][1]:.3f} |",
              f"| chromadb default | {a['chromadb-default'][0]:.3f} | "
              f"{a['chromadb-default'][1]:.3f} |", ""]
    tq = results["time_questions"]
    lines += [f"Time questions (\"what did we talk about last Tuesday?\"): {tq['right']} of "
              f"{tq['asked']} answered with exactly that day's conversation.", ""]
    ins = results["insert_per_s"]
    lines += [f"Storing in batches of 256: koe {ins['koe']:.0f} turns/s "
              f"({ins['tokens_per_turn']:.0f} tokens each), {ins['koe_short']:.0f} turns/s for "
              f"short turns ({ins['tokens_per_short_turn']:.0f} tokens); chromadb's default "
              f"path {ins['chromadb-default']:.0f} docs/s.", ""]
    lines += ["| memories | koe search p50 / p95 ms | with a time phrase p50 / p95 | chromadb "
              "default search p50 / p95 | one add_turn p50 / p95 | recall@1 / @5 koe | "
              "recall@1 / @5 chromadb default | compaction s |",
              "|---|---|---|---|---|---|---|---|"]
    for size, m in results["sizes"].items():
        def pair(d: dict) -> str:
            return f"{d['p50']:.1f} / {d['p95']:.1f}"
        lines.append(
            f"| {int(size):,} | {pair(m['koe_search_ms'])} | {pair(m['koe_window_search_ms'])} "
            f"| {pair(m['chromadb_default_search_ms'])} | {pair(m['koe_single_add_ms'])} | "
            f"{m['quality_koe'][0]:.3f} / {m['quality_koe'][1]:.3f} | "
            f"{m['quality_chromadb_default'][0]:.3f} / {m['quality_chromadb_default'][1]:.3f} "
            f"| {m.get('compact_s', float('nan')):.1f} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000,100000",
                   type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--queries", type=int, default=162, help="questions timed per size")
    p.add_argument("--insert", type=int, default=3000, help="turns for the koe insert rate")
    p.add_argument("--baseline-insert", type=int, default=512,
                   help="documents for the chromadb default insert rate (it is slow)")
    p.add_argument("--no-compact", dest="compact", action="store_false")
    p.add_argument("--tmp", default=None, help="scratch folder (default: the system's)")
    p.add_argument("--json", metavar="FILE", help="also write the raw results here")
    args = p.parse_args()
    results = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
