"""Ranking recalled memories, and how sure recall is that one answers the question.

Each candidate (from exact vector search and from full-text search, memory/search/candidates.py)
gets one score:

    (1 - w) * similarity + w * recency        the existing blend (memory.recency_weight)
    + LEXICAL_WEIGHT * coverage               share of the question's words it holds,
                                              rare words counting more (IDF)
    + PRIOR[kind]                             what the user told outranks their chatter,
                                              summaries and the assistant's echoes
    + window bonus                            inside a window the question names

Words and meaning are fused by score, not by rank: rank fusion (RRF, k 10, same role
weights) placed the facts of the benchmark's look-alike store lower (recall@1 / @5 0.76 /
0.94 against 0.91 / 0.97 at 10,000 memories): a rank says nothing about how close the best
match actually is.

Then one memory per record (a long text's best piece), and near duplicates (cosine >=
NEAR_DUPLICATE: the same thing said again, or echoed back) take one place, held by the most
durable of them with the best score among them.

`relevance` maps the score to 0-1 with a logistic curve fitted at 10,000 memories of the
benchmark's store (positives: the fact a paraphrased question asks about; negatives:
everything else recall offered, and what it offered for the odd lines of
tests/memory/data/unrelated.txt, questions that have nothing to do with memory): the chance
that the memory is the one the question asks about. Across that data the predicted chance
matched the observed share within ~0.1 in every tenth. The voice loop quotes memories whose
relevance reaches run.min_relevance.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from koe.memory.index.terms import Kind
from koe.memory.records import record_id

LEXICAL_WEIGHT = 0.2
# A question asked before matches a question asked again word for word, yet never answers
# it: chatter needs the largest handicap. (On the benchmark these values moved recall by
# less than one question in 160 either way; they matter where a text repeats the question.)
PRIOR = {Kind.STATEMENT: 0.0, Kind.CHATTER: -0.3, Kind.SUMMARY: -0.1, Kind.ASSISTANT: -0.15}
NEAR_DUPLICATE = 0.9
# relevance = 1 / (1 + exp(-SLOPE * (score - MIDPOINT)))
SLOPE = 14.0
MIDPOINT = 0.69
# A memory less similar than memory.min_similarity is still a candidate when it holds this
# share of the question's (IDF-weighted) words: "the allotment" said in other words.
MIN_COVERAGE = 0.3


@dataclass(frozen=True)
class Candidate:
    entry: str  # chromadb entry id (a memory, or a later piece of one)
    similarity: float  # cosine, -1..1
    coverage: float  # 0..1
    kind: Kind
    timestamp: float
    vector: np.ndarray
    inside: bool = False  # inside the window the question names


@dataclass(frozen=True)
class Ranked:
    entry: str
    score: float
    relevance: float
    similarity: float

    @property
    def record_id(self) -> str:
        return record_id(self.entry)


def idf(documents_with_word: int, documents: int) -> float:
    """BM25's inverse document frequency: a word few memories hold weighs more."""
    return math.log(1 + (documents - documents_with_word + 0.5) / (documents_with_word + 0.5))


def coverage(question: Sequence[str], memory: Collection[str],
             weights: Mapping[str, float]) -> float:
    """The IDF-weighted share of the question's words that the memory holds."""
    total = sum(weights.get(w, 1.0) for w in question)
    if total <= 0:
        return 0.0
    return sum(weights.get(w, 1.0) for w in question if w in memory) / total


def relevance(score: float) -> float:
    return 1.0 / (1.0 + math.exp(-SLOPE * (score - MIDPOINT)))


def score(candidate: Candidate, now: float, recency_weight: float, half_life_days: float,
          window_bonus: float) -> float:
    age_days = max(0.0, now - candidate.timestamp) / 86400
    recency = 0.5 ** (age_days / half_life_days)
    return ((1 - recency_weight) * candidate.similarity + recency_weight * recency
            + LEXICAL_WEIGHT * candidate.coverage + PRIOR[candidate.kind]
            + (window_bonus if candidate.inside else 0.0))


def rank(candidates: Sequence[Candidate], k: int, now: float, recency_weight: float,
         half_life_days: float, window_bonus: float = 0.0) -> list[Ranked]:
    """The k best memories, best first, one per record and one per group of near
    duplicates."""
    best: dict[str, tuple[float, Candidate]] = {}
    for candidate in candidates:
        value = score(candidate, now, recency_weight, half_life_days, window_bonus)
        rid = record_id(candidate.entry)
        if rid not in best or value > best[rid][0]:
            best[rid] = (value, candidate)
    ordered = sorted(best.values(), key=lambda item: (-item[0], item[1].entry))
    if not ordered or k <= 0:
        return []
    vectors = np.stack([c.vector for _, c in ordered])
    close: dict[int, np.ndarray] = {}  # member -> which candidates are its near duplicates

    def near(member: int, i: int) -> bool:
        if member not in close:  # einsum: no BLAS threads to wake for 384 x a few hundred
            close[member] = np.einsum("ij,j->i", vectors, vectors[member]) >= NEAR_DUPLICATE
        return bool(close[member][i])

    kept: list[list[int]] = []  # [first (best) member, representative] per group
    for i, (_, candidate) in enumerate(ordered):
        group = next((g for g in kept if near(g[0], i) or near(g[1], i)), None)
        if group is None:
            if len(kept) < k:
                kept.append([i, i])
        elif candidate.kind < ordered[group[1]][1].kind:  # the user's words, not the echo
            group[1] = i
    return [Ranked(ordered[rep][1].entry, ordered[first][0], relevance(ordered[first][0]),
                   ordered[rep][1].similarity) for first, rep in kept]
