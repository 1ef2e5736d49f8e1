"""Benchmark koe's memory: recall among a year of look-alike talk, against plain dense search.

    python scripts/bench_memory.py                 # 1k, 10k and 100k memories (~40 min here)
    python scripts/bench_memory.py --sizes 1000,10000 --no-compact --recording-minutes 0

Measures, in one run on one machine:
- quality: recall@1 / recall@5 on tests/memory/data/paraphrases.jsonl, alone (koe, and
  chromadb's own default embedding path as the baseline) and hidden among the look-alike
  store (scripts/memory_corpus.py) at each size, for koe's recall() and, on the same stored
  vectors, plain dense search by chromadb's HNSW graph (M 16, ef 100) and by exact cosine;
- relevance: at run.min_relevance, the share of right answers the voice loop would quote
  and of held-out questions unrelated to memory that would quote anything;
- latency p50/p95, embedding included: recall(), the same with a time phrase ("... last
  week"), a question about time alone, plain HNSW and exact searches, one add_turn;
- storage per memory (chromadb's files and the search index beside them) and the index's
  memory; storing rates; compaction; time questions answered from the right day;
- a recording: an hour of real speech transcribed as `koe transcribe` does, then
  remembered (needs the shared speech set).
chromadb's default embedding function runs on local files: the same int8 model koe uses
and a tokenizer.json built from the same vocabulary, so only the pipeline differs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from memory_corpus import (
    NOW,
    fact_company,
    fact_records,
    lookalikes,
    paraphrase_rows,
    questions,
)
from memory_measures import latency, quality, recall_at, recording, storage, thresholds

from koe.config.schema import MemorySettings
from koe.memory.chroma.client import chroma_settings
from koe.memory.embeddings import bert_tokenizer, packaged_model_file, packaged_vocab_file
from koe.memory.forgetting.compact import compact
from koe.memory.recall import recall
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore

ROOT = Path(__file__).resolve().parents[1]
UNRELATED = ROOT / "tests" / "memory" / "data" / "unrelated.txt"


def unrelated_questions() -> list[str]:
    lines = UNRELATED.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


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
    unrelated = unrelated_questions()
    work = Path(tempfile.mkdtemp(prefix="bench-memory-", dir=args.tmp))
    try:
        results["quality_alone"] = paraphrase_alone(work, facts, qs)
        log(f"paraphrase set alone: {results['quality_alone']}")
        results["time_questions"] = time_questions(work / "days")
        log(f"time questions answered from the right day: {results['time_questions']}")
        results["insert_per_s"] = insert_rates(work, facts, args)
        log(f"storing: {results['insert_per_s']}")
        results["sizes"] = {}
        with MemoryStore.open(MemorySettings(path=str(work / "store"), timezone="UTC")) as store:
            company = fact_company(facts)
            store.add_many(facts + company)
            have, conversation = len(facts) + len(company), 0
            for size in args.sizes:
                log(f"growing the store to {size:,} memories (+{size - have:,})")
                started = time.perf_counter()
                records, conversation = lookalikes(size - have, seed=100, first_conversation=
                                                   conversation)
                for i in range(0, len(records), 1000):
                    store.add_many(records[i:i + 1000])
                have += len(records)
                m: dict = {"memories": have,
                           "build_per_s": len(records) / (time.perf_counter() - started)}
                m["quality"] = quality(store, qs)
                log(f"  quality {m['quality']}")
                m["relevance"] = thresholds(store, qs, unrelated)
                m["latency_ms"] = latency(store, qs, args.queries)
                m["storage"] = storage(store, have)
                log(f"  {json.dumps({k: m[k] for k in ('relevance', 'latency_ms', 'storage')})}")
                if args.compact:
                    m["compact_s"] = measure_compaction(store)
                    log(f"  compaction {m['compact_s']:.1f} s")
                results["sizes"][size] = m
            if args.recording_minutes > 0:
                log(f"a {args.recording_minutes:g}-minute recording: transcribed, remembered")
                results["recording"] = recording(store, args.recording_minutes, work)
                log(f"  {results['recording']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    return results


def paraphrase_alone(work: Path, facts: list[MemoryRecord], qs: list[tuple[str, str]]
                     ) -> dict[str, tuple[float, float]]:
    """The paraphrase set's facts and distractors alone: koe, and chromadb's default path."""
    import chromadb

    out = {}
    with MemoryStore.open(MemorySettings(path=str(work / "alone"), timezone="UTC")) as store:
        store.add_many(facts)
        out["koe"] = recall_at(lambda q: [r.record.id for r in recall(store, q, 5, now=NOW)],
                               qs)
    client = chromadb.PersistentClient(path=str(work / "baseline"), settings=chroma_settings())
    base = client.create_collection("baseline", configuration={"hnsw": {"space": "cosine"}},
                                    embedding_function=baseline_function(work / "default"))
    base.add(ids=[r.id for r in facts], documents=[r.text for r in facts])
    out["chromadb-default"] = recall_at(
        lambda q: base.query(query_texts=[q], n_results=5)["ids"][0], qs)
    client.close()
    return out


def insert_rates(work: Path, facts: list[MemoryRecord], args: argparse.Namespace
                 ) -> dict[str, float]:
    """Storing in batches of 256, embedding included: koe, and chromadb's default path."""
    import chromadb

    batch, _ = lookalikes(args.insert, seed=1, first_conversation=10_000_000)
    short = [MemoryRecord(f"short{i}", facts[i % len(facts)].text, "user", "short",
                          facts[0].timestamp) for i in range(args.insert // 2)]
    rates = {}
    with MemoryStore.open(MemorySettings(path=str(work / "insert"), timezone="UTC")) as store:
        for name, records in (("koe", batch), ("koe_short", short)):
            started = time.perf_counter()
            for i in range(0, len(records), 256):
                store.add_many(records[i:i + 256])
            rates[name] = len(records) / (time.perf_counter() - started)
        tokens = store.embedder.tokenizer.encode_batch
        rates["tokens_per_turn"] = statistics.mean(len(e.ids) for e in tokens(
            [r.text for r in batch]))
    client = chromadb.PersistentClient(path=str(work / "insert-default"),
                                       settings=chroma_settings())
    base = client.create_collection("baseline", configuration={"hnsw": {"space": "cosine"}},
                                    embedding_function=baseline_function(work / "default2"))
    base_batch = batch[:args.baseline_insert]
    started = time.perf_counter()
    for i in range(0, len(base_batch), 256):
        part = base_batch[i:i + 256]
        base.add(ids=[r.id for r in part], documents=[r.text for r in part])
    rates["chromadb-default"] = len(base_batch) / (time.perf_counter() - started)
    client.close()
    return rates


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
    def pair(d: dict) -> str:
        return f"{d['p50']:.1f} / {d['p95']:.1f}"

    def at(q: tuple[float, float]) -> str:
        return f"{q[0]:.3f} / {q[1]:.3f}"

    lines = [f"Run {results['date']} on {results['cpus']} CPUs; load average before "
             f"{results['load_before'][0]:.1f}, after {results['load_after'][0]:.1f}.", ""]
    a = results["quality_alone"]
    lines += [f"Paraphrase set alone, recall@1 / @5: koe {at(a['koe'])}; chromadb default "
              f"{at(a['chromadb-default'])}."]
    tq = results["time_questions"]
    lines += [f"Time questions: {tq['right']} of {tq['asked']} answered with exactly that "
              "day's conversation."]
    ins = results["insert_per_s"]
    lines += [f"Storing in batches of 256: koe {ins['koe']:.0f} turns/s "
              f"({ins['tokens_per_turn']:.0f} tokens each), {ins['koe_short']:.0f} turns/s "
              f"for short ones; chromadb's default path {ins['chromadb-default']:.0f} "
              "docs/s.", ""]
    lines += ["| memories | recall@1 / @5 koe | plain HNSW | plain exact | answers quoted / "
              "unrelated quoting | search p50 / p95 ms | with a time phrase | time alone | "
              "plain HNSW search | plain exact search | add_turn | bytes per memory "
              "(chroma + index) | compaction s |", "|" + "---|" * 13]
    for size, m in results["sizes"].items():
        q, r, t, st = m["quality"], m["relevance"], m["latency_ms"], m["storage"]
        lines.append(
            f"| {int(size):,} | {at(q['koe'])} | {at(q['hnsw'])} | {at(q['exact'])} | "
            f"{r['answers_quoted']:.2f} / {r['unrelated_quoting']:.2f} | {pair(t['search'])} | "
            f"{pair(t['window'])} | {pair(t['time_only'])} | {pair(t['hnsw_search'])} | "
            f"{pair(t['exact_search'])} | {pair(t['add_turn'])} | "
            f"{st['chroma_bytes_per_memory']:.0f} + {st['index_bytes_per_memory']:.0f} | "
            f"{m.get('compact_s', float('nan')):.1f} |")
    if results.get("recording"):
        rec = results["recording"]
        lines += ["", f"Recording: {rec['audio_s'] / 60:.0f} min of speech transcribed in "
                  f"{rec['transcribe_s']:.1f} s, remembered ({rec['passages']:.0f} passages and "
                  f"a summary) in {rec['remember_s']:.1f} s: {100 * rec['share']:.1f} % of the "
                  "transcription time."]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000,100000",
                   type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--queries", type=int, default=100, help="questions timed per size")
    p.add_argument("--insert", type=int, default=3000, help="turns for the koe insert rate")
    p.add_argument("--baseline-insert", type=int, default=512,
                   help="documents for the chromadb default insert rate (it is slow)")
    p.add_argument("--no-compact", dest="compact", action="store_false")
    p.add_argument("--recording-minutes", type=float, default=60.0,
                   help="length of the recording transcribed and remembered (0: skip)")
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
