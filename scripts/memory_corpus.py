"""The memories scripts/bench_memory.py measures with: the paraphrase set and a look-alike store.

The look-alike store is a year of everyday talk shaped like real use: conversations of about
a dozen turns, both roles, each with its summary; many exact duplicates ("okay", "thanks",
"set a timer for ten minutes"), many near duplicates (the same names, objects and plans
again and again, and the assistant repeating what it was told). The facts of the paraphrase
set are hidden in it, a third of them echoed back by the assistant ("Noted: your sister
Anna's birthday ..."), each fact's conversation summarized like the rest.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from koe.memory.records import MemoryRecord
from koe.memory.summary import extractive_summary, summary_id

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
# Said over and over, word for word.
CHATTER = ["Okay.", "Thanks.", "Thank you!", "Yes please.", "No thanks.", "Good morning.",
           "What time is it?", "What's the weather like today?", "Set a timer for ten minutes.",
           "Tell me a joke.", "Never mind.", "Stop.", "Sounds good.", "Okay, thanks.",
           "Remind me later.", "What's on my list?"]
RELATIONS = ["sister", "brother", "boss", "neighbour", "friend", "colleague", "mum", "dad",
             "cousin", "partner"]
# First-person talk: most of what people say is about themselves, and most of it is passing.
MINE = ["I need to sort out {thing} {when}.", "I think {thing} {action}.",
        "My {relation} {name} says {thing} {action}.", "I'm worried {thing} {action}.",
        "We still haven't dealt with {thing}; it {action}.", "I told {name} that {thing} {action}.",
        "Our {thing2} {action} {when}, I'm sure.", "I might ask my {relation} about {thing}."]
ACKS = ["Okay, I'll remember that.", "Noted.", "Got it, I'll remind you.",
        "Sure, I've written that down.", "Understood.", "You're welcome.", "Will do."]
_FLIP = {"my": "your", "i": "you", "i'm": "you're", "me": "you", "mine": "yours",
         "our": "your", "we": "you", "i've": "you've", "i'll": "you'll", "myself": "yourself",
         "am": "are"}
_WORD = re.compile(r"[A-Za-z']+")


def paraphrase_rows() -> list[dict]:
    with PARAPHRASES.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def fact_records(rows: Sequence[dict]) -> list[MemoryRecord]:
    """The paraphrase set's facts and distractors, said by the user 20 days before NOW."""
    stamp = (NOW - timedelta(days=20)).timestamp()
    return [MemoryRecord(r["id"], r["fact"], "user", f"fact-{r['topic']}", stamp) for r in rows]


def questions(rows: Sequence[dict]) -> list[tuple[str, str]]:
    """(question, id of the fact that answers it)."""
    return [(q, r["id"]) for r in rows for q in r["questions"]]


def echo(text: str) -> str:
    """The assistant repeating a statement back ("my sister" -> "your sister")."""
    if text.startswith("Remind me that "):
        return "I'll remind you that " + text.removeprefix("Remind me that ")

    def flip(match: re.Match[str]) -> str:
        word = match.group()
        return _FLIP.get(word.lower(), word)
    return "Noted: " + _WORD.sub(flip, text)


def fact_company(facts: Sequence[MemoryRecord]) -> list[MemoryRecord]:
    """What surrounds each fact in real talk: the assistant's reply (a third of them echo the
    fact) and one summary per fact conversation."""
    out: list[MemoryRecord] = []
    by_conversation: dict[str, list[MemoryRecord]] = {}
    for i, fact in enumerate(facts):
        reply = echo(fact.text) if i % 3 == 0 else ACKS[i % len(ACKS)]
        answer = MemoryRecord(f"{fact.id}-reply", reply, "assistant", fact.conversation,
                              fact.timestamp + 4)
        out.append(answer)
        by_conversation.setdefault(fact.conversation, []).extend([fact, answer])
    for conversation, turns in by_conversation.items():
        out.append(MemoryRecord(summary_id(conversation), extractive_summary(turns), "summary",
                                conversation, turns[-1].timestamp + 60))
    return out


def _statement(rng: random.Random) -> str:
    return (f"{rng.choice(NAMES)} said {rng.choice(THINGS)} {rng.choice(ACTIONS)} "
            f"{rng.choice(WHENS)}, and {rng.choice(THINGS)} {rng.choice(ACTIONS)}.")


def _mine(rng: random.Random) -> str:
    thing = rng.choice(THINGS)
    return rng.choice(MINE).format(thing=thing, thing2=thing.removeprefix("the "),
                                   action=rng.choice(ACTIONS), when=rng.choice(WHENS),
                                   name=rng.choice(NAMES), relation=rng.choice(RELATIONS))


def _user_turn(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.25:
        return rng.choice(CHATTER)
    if roll < 0.35:
        return f"Remind me that {rng.choice(THINGS)} {rng.choice(ACTIONS)} {rng.choice(WHENS)}."
    if roll < 0.65:
        return _mine(rng)
    return _statement(rng)


def _reply(rng: random.Random, said: str) -> str:
    roll = rng.random()
    if said in CHATTER or roll < 0.35:
        return rng.choice(ACKS)
    if roll < 0.70:
        return echo(said)
    return f"{rng.choice(ACKS)} {rng.choice(NAMES)} and {rng.choice(THINGS)}."


def conversations(seed: int, first: int = 0) -> Iterator[list[MemoryRecord]]:
    """Endless conversations (numbered from `first`) spread over the year before NOW, each
    5-8 exchanges and its summary."""
    number = first
    while True:
        rng = random.Random(seed * 1_000_003 + number)
        start = NOW - timedelta(days=rng.uniform(1, 365))
        name = f"syn-{number}"
        turns: list[MemoryRecord] = []
        for exchange in range(rng.randint(5, 8)):
            said = _user_turn(rng)
            at = (start + timedelta(minutes=exchange)).timestamp()
            turns += [MemoryRecord(f"{name}-{exchange}u", said, "user", name, at),
                      MemoryRecord(f"{name}-{exchange}a", _reply(rng, said), "assistant", name,
                                   at + 5)]
        turns.append(MemoryRecord(summary_id(name), extractive_summary(turns), "summary", name,
                                  turns[-1].timestamp + 60))
        yield turns
        number += 1


def lookalikes(n: int, seed: int, first_conversation: int = 0) -> tuple[list[MemoryRecord], int]:
    """At least `n` look-alike memories (whole conversations), and the next conversation number."""
    out: list[MemoryRecord] = []
    number = first_conversation
    for turns in conversations(seed, first_conversation):
        if len(out) >= n:
            break
        out += turns
        number += 1
    return out, number
