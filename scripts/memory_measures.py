"""What scripts/bench_memory.py measures on a store: quality (koe's recall against plain
dense search by chromadb's HNSW graph and by exact cosine, on the same vectors), relevance
thresholds, latency, storage, and remembering a recording."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from memory_corpus import NOW

from koe.config.schema import RunSettings
from koe.memory.forgetting.compact import folder_size
from koe.memory.index.mirror import Narrowing
from koe.memory.index.tables import FILE as INDEX_FILE
from koe.memory.recall import recall
from koe.memory.records import record_id
from koe.memory.store import MemoryStore

Questions = Sequence[tuple[str, str]]


def pct(values: Sequence[float], p: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, p))


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"p50": pct(values, 50), "p95": pct(values, 95)}


def timed(fn: Callable[[str], object], inputs: Sequence[str]) -> list[float]:
    out = []
    for item in inputs:
        started = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - started)
    return out


def recall_at(rank: Callable[[str], list[str]], qs: Questions) -> tuple[float, float]:
    at1 = at5 = 0
    for question, wanted in qs:
        found = rank(question)
        at1 += found[:1] == [wanted]
        at5 += wanted in found[:5]
    return at1 / len(qs), at5 / len(qs)


def koe_ids(store: MemoryStore, question: str) -> list[str]:
    return [r.record.id for r in recall(store, question, 5, now=NOW)]


def hnsw_ids(store: MemoryStore, question: str) -> list[str]:
    """Plain dense search by chromadb's own index (cosine, M 16, ef 100), top 5 memories."""
    vector = store.embedder.embed_one(question)
    found = store.collection.query(query_embeddings=[vector], n_results=10, include=[])
    return list(dict.fromkeys(record_id(i) for i in found["ids"][0]))[:5]


def exact_ids(store: MemoryStore, question: str) -> list[str]:
    """Plain dense search by exact cosine over every stored vector, top 5 memories."""
    assert store.index is not None
    vector = store.embedder.embed_one(question)
    found = store.index.nearest(vector, 10, Narrowing(), collapse=False)
    return list(dict.fromkeys(record_id(str(store.index.entry(s))) for s, _ in found))[:5]


def quality(store: MemoryStore, qs: Questions) -> dict[str, tuple[float, float]]:
    return {"koe": recall_at(lambda q: koe_ids(store, q), qs),
            "hnsw": recall_at(lambda q: hnsw_ids(store, q), qs),
            "exact": recall_at(lambda q: exact_ids(store, q), qs)}


def thresholds(store: MemoryStore, qs: Questions, unrelated: Sequence[str]) -> dict:
    """At run.min_relevance: the share of answers (found in the top 5) the voice loop would
    quote, and the share of held-out unrelated questions (even lines) that would quote
    anything."""
    floor = RunSettings().min_relevance
    kept = found = 0
    for question, wanted in qs:
        for item in recall(store, question, 5, now=NOW):
            if item.record.id == wanted:
                found += 1
                kept += item.score >= floor
    held_out = unrelated[1::2]
    quoting = sum(any(r.score >= floor for r in recall(store, q, 5, now=NOW))
                  for q in held_out)
    return {"min_relevance": floor, "answers_quoted": kept / max(1, found),
            "unrelated_quoting": quoting / len(held_out), "unrelated_asked": len(held_out)}


def latency(store: MemoryStore, qs: Questions, n: int) -> dict[str, dict[str, float]]:
    rng = random.Random(7)
    sample = [q for q, _ in rng.sample(list(qs), min(n, len(qs)))]
    for q in sample[:10]:  # warm up
        recall(store, q, 5, now=NOW)
    out = {
        "search": spread(timed(lambda q: recall(store, q, 5, now=NOW), sample)),
        "window": spread(timed(lambda q: recall(store, q + " last week", 5, now=NOW), sample)),
        "time_only": spread(timed(lambda q: recall(store, q, 5, now=NOW),
                                  ["what did we talk about last week?",
                                   "what did we discuss on Friday?",
                                   "what did I tell you yesterday?"] * 10)),
        "hnsw_search": spread(timed(lambda q: hnsw_ids(store, q), sample)),
        "exact_search": spread(timed(lambda q: exact_ids(store, q), sample)),
    }
    out["add_turn"] = spread(timed(
        lambda q: store.add_turn("user", f"single turn {q} {rng.random()}", "bench-single"),
        [str(i) for i in range(50)]))
    return out


def storage(store: MemoryStore, memories: int) -> dict[str, float]:
    path = store.connection.path
    assert path is not None
    index = sum(f.stat().st_size for f in path.glob(INDEX_FILE + "*"))
    total = folder_size(path)
    return {"chroma_bytes_per_memory": (total - index) / memories,
            "index_bytes_per_memory": index / memories,
            "index_mib_in_memory": (store.index.mirror.matrix.nbytes if store.index else 0)
            / 2**20}


def recording(store: MemoryStore, minutes: float, folder: Path) -> dict[str, float]:
    """Transcribe an hour of real speech (the shared speech set, repeated) as `koe transcribe`
    does, then remember it: the seconds each took."""
    from koe.config.schema import SttSettings, TranscribeSettings
    from koe.voice.audio.files import SAMPLE_RATE, decode_file
    from koe.voice.stt.speech_set import speech_clips
    from koe.voice.stt.transcriber import Transcriber
    from koe.voice.transcribe.job import transcribe_file
    from koe.voice.transcribe.progress import QuietReporter
    from koe.voice.transcribe.remember import RecordedAt, remember_transcript

    clips = [decode_file(c.path).samples for c in speech_clips()]
    if not clips:
        return {}
    pause = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    parts: list[np.ndarray] = []
    total = 0
    while total < minutes * 60 * SAMPLE_RATE:
        for clip in clips:
            parts += [clip, pause]
            total += len(clip) + len(pause)
    audio = np.concatenate(parts)[: int(minutes * 60 * SAMPLE_RATE)]
    path = folder / "hour.wav"
    _write_wav(path, audio)
    settings = TranscribeSettings(output_dir=str(folder))
    transcriber = Transcriber.load(SttSettings())
    result = transcribe_file(path, transcriber, settings, QuietReporter())
    assert result.transcript is not None, result.error
    done = remember_transcript(store, result.transcript,
                               RecordedAt(NOW.timestamp() - 7200, "the benchmark"))
    return {"audio_s": len(audio) / SAMPLE_RATE, "transcribe_s": result.elapsed,
            "remember_s": done.seconds, "passages": done.memories,
            "share": done.seconds / result.elapsed}


def _write_wav(path: Path, samples: np.ndarray) -> None:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
