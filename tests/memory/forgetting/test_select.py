"""Forget removes what was asked and nothing else: phrases match whole words, selectors narrow
each other, "about" is strict and capped, and every memory forgotten is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from koe.config.schema import MemorySettings
from koe.memory.forgetting.forget import ABOUT_LIMIT, TooBroadError, select
from koe.memory.forgetting.phrase import Phrase
from koe.memory.records import MemoryRecord
from koe.memory.store import MemoryStore
from tests.memory.helpers import koe_memory, run_koe, write_config

NOV = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
DIARY = [MemoryRecord(f"d{day}", f"Took my blood pressure pill at 8:00 on November {day}",
                      "user", "diary", (NOV + timedelta(days=day - 1)).timestamp())
         for day in range(1, 31)]
NOTES = [MemoryRecord(f"n{i}", f"Note {i}: the meeting", "user", "notes",
                      (NOV + timedelta(minutes=i)).timestamp()) for i in range(1, 121)]


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(write_config(tmp_path / "koe.toml", path=str(tmp_path / "store"),
                            timezone="UTC"))


def _settings(config: str) -> MemorySettings:
    from koe.config.loader import load_settings

    return load_settings(config).memory


def _ids(config: str) -> set[str]:
    with MemoryStore.open(_settings(config)) as store:
        return {r.id for r in store.records()}


@pytest.mark.parametrize(("phrase", "text", "matches"), [
    ("November 3", "Took my pill at 8:00 on November 3", True),
    ("November 3", "Took my pill at 8:00 on November 30", False),
    ("november 3", "NOVEMBER 3rd", False),  # "3rd" is another word
    ("Note 1", "Note 1: the meeting", True),
    ("Note 1", "Note 10: the meeting", False),
    ("note 1:", "note 1 - the meeting", True),  # punctuation is not a word
    ("8:00", "at 8:00 on", True),
    ("alarm code", "The alarm code is 8142.", True),
    ("alarm code", "The alarm coded 8142.", False),
    ("zebra-quartz", "my code is zebra-quartz-4417", True),
    ("東京", "私は東京都に住んでいます", True),  # no spaces: characters are words
    ("京都", "私は東京に住んでいます", False),
])
def test_a_phrase_matches_whole_words(phrase: str, text: str, matches: bool) -> None:
    assert Phrase(phrase).matches(text) is matches


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(["Note", "November"]))
def test_a_number_never_matches_a_longer_number(a: int, b: int, word: str) -> None:
    assert Phrase(f"{word} {a}").matches(f"{word} {b}: the meeting") is (a == b)


@given(st.lists(st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True), min_size=1, max_size=12),
       st.data())
def test_every_run_of_a_texts_words_matches_it(text_words: list[str], data: st.DataObject
                                               ) -> None:
    start = data.draw(st.integers(0, len(text_words) - 1))
    end = data.draw(st.integers(start + 1, len(text_words)))
    text = ", ".join(text_words) + "."
    assert Phrase(" ".join(text_words[start:end]).upper()).matches(text)


def test_a_phrase_without_words_is_refused(config: str, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    assert koe_memory(config, "forget", "--matching", "?!", "--yes") == 2
    assert "no words" in capsys.readouterr().err


def test_forgetting_one_diary_day_forgets_that_day_only(
        config: str, capsys: pytest.CaptureFixture[str]) -> None:
    with MemoryStore.open(_settings(config)) as store:
        store.add_many(DIARY + NOTES)
    capsys.readouterr()
    assert koe_memory(config, "forget", "--matching", "blood pressure pill November 3",
                      "--yes") == 0
    assert "nothing to forget" in capsys.readouterr().err  # not those words in a row

    assert koe_memory(config, "forget", "--matching", "on November 3", "--yes") == 0
    out = capsys.readouterr().out
    # Shown after the fact, since --yes asked nothing first.
    assert "forgot 1 memories:" in out and "November 3\n" in out and "d3" in out
    assert "November 30" not in out
    assert koe_memory(config, "forget", "--matching", "Note 1", "--yes", "--no-compact") == 0
    assert "Note 10" not in capsys.readouterr().out
    assert _ids(config) == {r.id for r in DIARY + NOTES} - {"d3", "n1"}


def test_selectors_narrow_each_other(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    for text, at in [("I parked the car on level 4.", "2026-11-20T10:00"),
                     ("Dentist appointment on Thursday.", "2026-11-21T10:00"),
                     ("The car needs new tyres.", "2026-11-29T10:00")]:
        assert koe_memory(config, "add", text, "--at", at, "--conversation", "c") == 0
    capsys.readouterr()
    assert koe_memory(config, "forget", "--matching", "car", "--before", "2026-11-28", "--yes") == 0
    out = capsys.readouterr().out
    assert "forgot 1 memories:" in out and "level 4" in out
    with MemoryStore.open(_settings(config)) as store:
        assert [r.text for r in store.records()] == ["Dentist appointment on Thursday.",
                                                     "The car needs new tyres."]
    help_text = run_koe("memory", "forget", "--help").out
    assert "narrow each other" in " ".join(help_text.split())


def test_dry_run_lists_and_forgets_nothing(config: str, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    with MemoryStore.open(_settings(config)) as store:
        store.add_many(DIARY)
    capsys.readouterr()
    assert koe_memory(config, "forget", "--conversation", "diary", "--before", "2026-11-03",
               "--dry-run") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "would forget 2 memories:"
    assert [line.split()[3] for line in out[1:]] == ["d1", "d2"]
    assert len(_ids(config)) == 30


def test_about_is_strict_and_capped(store: MemoryStore) -> None:
    store.add_many(DIARY)
    parked = store.add_turn("user", "I parked on level 4, bay C12.", "trip")
    store.add_turn("user", "Tomatoes need water every morning.", "garden")
    assert select(store, about="my parking space on level 4") == [parked]
    assert select(store, about="quantum chromodynamics lecture") == []
    # Thirty near-identical notes are all "about" the pill: too vague to act on.
    with pytest.raises(TooBroadError, match=rf"more than {ABOUT_LIMIT} memories") as caught:
        select(store, about="took my blood pressure pill")
    assert "--matching" in caught.value.hint
    # Narrowed by a phrase first, the same meaning is precise enough.
    chosen = select(store, about="took my blood pressure pill", matching="November 30")
    assert [r.id for r in chosen] == ["d30"]
    assert len(store.records()) == 32


def test_about_too_broad_on_the_command_line_forgets_nothing(
        config: str, capsys: pytest.CaptureFixture[str]) -> None:
    with MemoryStore.open(_settings(config)) as store:
        store.add_many(DIARY)
    assert koe_memory(config, "forget", "--about", "blood pressure pill", "--yes") == 1
    err = capsys.readouterr().err
    assert err.startswith("koe: error: more than") and err.count("\n") <= 2
    assert len(_ids(config)) == 30
    assert koe_memory(config, "forget", "--matching", "pill", "--threshold", "0.9") == 2
