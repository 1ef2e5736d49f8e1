"""Recall's ranking on a real store: words and meaning fused, the user's words above echoes
and chatter, repeats in one place, and a relevance the voice loop can threshold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from koe.config.schema import RunSettings
from koe.memory.recall import recall
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from tests.memory.helpers import paraphrase_set

NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)
UNRELATED = Path(__file__).parent / "data" / "unrelated.txt"


def _said(store: MemoryStore, *lines: tuple[str, str], days_ago: float = 10) -> list[str]:
    at = (NOW - timedelta(days=days_ago)).timestamp()
    records = [MemoryRecord(f"m{i}-{abs(hash(text)) % 10**8}", text, role, "c", at + i)
               for i, (role, text) in enumerate(lines)]
    store.add_many(records)
    return [r.id for r in records]


def test_a_rare_word_finds_what_meaning_alone_misses(store: MemoryStore) -> None:
    fact, *_ = _said(
        store, ("user", "My allotment plot is number 17 and the tomatoes need staking."),
        ("user", "Remind me that the school trip needs fixing tomorrow."),
        ("user", "The sourdough starter needs feeding every twelve hours."),
        ("user", "I owe Priya a coffee for covering my shift."))
    found = recall(store, "What needs doing at the allotment?", 3, now=NOW)
    assert found[0].record.id == fact
    # Too far in meaning to pass memory.min_similarity on its own: the word carried it.
    assert found[0].similarity < store.settings.min_similarity


def test_the_users_words_outrank_the_echo_and_take_its_place(store: MemoryStore) -> None:
    fact, echo, chatter = _said(
        store, ("user", "My sister Anna's birthday is on the third of March."),
        ("assistant", "Noted: your sister Anna's birthday is on the third of March."),
        ("user", "When is Anna's birthday?"))
    found = recall(store, "When is Anna's birthday?", 3, now=NOW)
    ids = [r.record.id for r in found]
    assert ids[0] == fact
    assert echo not in ids  # a near duplicate of the fact: the fact holds its place
    # The question asked before is chatter: it may follow, never lead.
    assert chatter not in ids[:1]


def test_repeats_take_one_place(store: MemoryStore) -> None:
    for text, name in (("Set a timer for ten minutes.", "t"), ("The timer went off.", "w")):
        store.add_many(MemoryRecord(f"{name}{i}", text, "user", f"c{i}",
                                    (NOW - timedelta(days=i + 1)).timestamp())
                       for i in range(40))
    fact, = _said(store, ("user", "The timer on the oven has been broken since Tuesday."))
    found = recall(store, "the oven timer", 5, now=NOW)
    texts = [r.record.text for r in found]
    assert texts.count("Set a timer for ten minutes.") <= 1
    assert texts.count("The timer went off.") <= 1
    assert found[0].record.id == fact
    went_off = [r for r in found if r.record.text == "The timer went off."]
    assert not went_off or went_off[0].record.id == "w0"  # the newest stands for them all


def test_relevance_is_a_threshold_the_voice_loop_can_use(store: MemoryStore) -> None:
    """Unrelated questions quote (almost) nothing at run.min_relevance; right answers pass."""
    rows = paraphrase_set()
    stamp = (NOW - timedelta(days=10)).timestamp()
    store.add_many(MemoryRecord(r["id"], r["fact"], "user", f"c-{r['topic']}", stamp)
                   for r in rows)
    floor = RunSettings().min_relevance
    kept = found = 0
    for row in rows:
        for question in row["questions"]:
            for item in recall(store, question, 5, now=NOW):
                assert 0.0 <= item.score <= 1.0
                if item.record.id == row["id"]:
                    found += 1
                    kept += item.score >= floor
    assert kept / found >= 0.8, f"{kept} of {found} right answers reach {floor}"
    lines = UNRELATED.read_text(encoding="utf-8").splitlines()
    unrelated = [q for q in lines if q.strip() and not q.startswith("#")][1::2]  # held out
    quoting = [q for q in unrelated
               if any(r.score >= floor for r in recall(store, q, 3, now=NOW))]
    assert len(quoting) <= 2, quoting


def test_results_are_ordered_by_relevance_within_filters(store: MemoryStore) -> None:
    _said(store, ("user", "The car's MOT is due in April."), days_ago=3)
    store.add_turn("user", "The car needs new brake pads.", "garage",
                   at=NOW - timedelta(days=40))
    found = recall(store, "what about the car?", 5, now=NOW)
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
    only = recall(store, "what about the car?", 5, conversation="garage", now=NOW)
    assert [r.record.conversation for r in only] == ["garage"]
    window = recall(store, "car", 5, since=NOW - timedelta(days=5), until=NOW, now=NOW)
    assert [r.record.text for r in window] == ["The car's MOT is due in April."]
