"""The streaming sentence splitter: where it cuts, where it must not, and that the way the
stream was cut into deltas never changes the chunks."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koe.voice.tts.blocks import BlockFilter
from koe.voice.tts.splitter import SentenceSplitter, SplitRules


def split(text: str, rules: SplitRules | None = None) -> list[str]:
    splitter = SentenceSplitter(rules or SplitRules())
    return splitter.feed(text) + splitter.flush()


def streamed(text: str, cuts: list[int], rules: SplitRules | None = None) -> list[str]:
    splitter = SentenceSplitter(rules or SplitRules())
    chunks: list[str] = []
    start = 0
    for end in [*sorted(set(cuts)), len(text)]:
        chunks += splitter.feed(text[start:end])
        start = end
    return chunks + splitter.flush()


# Later chunks: min_words=1 shows every sentence cut the splitter accepts.
EVERY_SENTENCE = SplitRules(first_clause_words=1000, min_words=1)


@pytest.mark.parametrize(("text", "chunks"), [
    ("Dr. Smith is here. He waits.", ["Doctor Smith is here.", "He waits."]),
    ("Mr. and Mrs. Jones came. They sat.", ["Mister and Missus Jones came.", "They sat."]),
    ("Bring fruit, e.g. apples. Then go.", ["Bring fruit, for example apples.", "Then go."]),
    ("Use one, i.e. the red one. Fine.", ["Use one, that is the red one.", "Fine."]),
    ("Apples, pears, etc. are fruit. Yes.", ["Apples, pears, et cetera are fruit.", "Yes."]),
    ("It has grown 3.5 times. Wow.", ["It has grown 3.5 times.", "Wow."]),
    ("He lives in the U.S. now. Good.", ["He lives in the US now.", "Good."]),
    ("Meet at 10:30 tonight. Bye.", ["Meet at 10:30 tonight.", "Bye."]),
    ("See https://example.com/a.b?c=d. Then rest.", ["See example.com.", "Then rest."]),
    ("Mail bob.smith@example.co.uk today. Thanks.",
     ["Mail bob.smith@example.co.uk today.", "Thanks."]),
    ("Well... maybe... I think so. Right.", ["Well, maybe, I think so.", "Right."]),
    ("He waited… then left. Done.", ["He waited, then left.", "Done."]),
    ("Is it? Yes! Really?! Sure.", ["Is it?", "Yes!", "Really?!", "Sure."]),
    ('She said "Go." Then we went.', ['She said "Go."', "Then we went."]),
    ("Read No. 5 first. Ok.", ["Read number 5 first.", "Ok."]),
    ("Call `koe.run()`. Then wait.", ["Call koe.run.", "Then wait."]),
    ("J. R. R. Tolkien wrote it. Yes.", ["J R R Tolkien wrote it.", "Yes."]),
    ("**1. Mix** the flour. **2. Bake** it.", ["1. Mix the flour.", "2. Bake it."]),
    ("It was 1999. Then 2. Later.", ["It was 1999.", "Then 2.", "Later."]),
])
def test_cuts_at_sentence_ends_only(text: str, chunks: list[str]) -> None:
    assert split(text, EVERY_SENTENCE) == chunks


def test_first_chunk_ends_at_the_first_clause_with_enough_words() -> None:
    text = ("Well, the capital of France, which is Paris, has many museums. "
            "The Louvre, the largest one, is the most famous, by far.")
    assert split(text) == [
        "Well, the capital of France,",  # "Well," alone is too short a clause
        "which is Paris, has many museums.",
        "The Louvre, the largest one, is the most famous, by far.",  # later: sentences
    ]


@pytest.mark.parametrize(("text", "first"), [
    ("Sure! Let me look that up for you.", "Sure!"),  # a whole first sentence goes at once
    ("The answer to that question is simple: no.", "The answer to that question is simple:"),
    ("The answer to your big question — as always — is no.",
     "The answer to your big question,"),
    ("My favourite numbers are 1,000 and 10:30 and 3.5, all of them.",
     "My favourite numbers are 1,000 and 10:30 and 3.5,"),
    ("I like these (apples, pears, plums, figs, dates) a lot, honestly.",
     "I like these (apples, pears, plums, figs, dates) a lot,"),
])
def test_first_clause(text: str, first: str) -> None:
    assert split(text)[0] == first


def test_short_later_sentences_ride_with_the_next() -> None:
    text = "Hello there, my good friend. Yes. It is. That is all I know about it."
    assert split(text) == ["Hello there, my good friend.",
                           "Yes. It is. That is all I know about it."]


def test_a_long_later_sentence_ends_at_a_clause() -> None:
    long = ", ".join(["one two three four five six seven eight"] * 5) + "."
    chunks = split("Okay. " + long.capitalize())
    assert chunks[0] == "Okay."
    assert len(chunks) > 2
    assert all(c.endswith((",", ".")) for c in chunks)


def test_markdown_reply_is_cut_at_blocks() -> None:
    text = ("## Shopping list\n- eggs\n- milk\n- flour and sugar\n\n"
            "Then run:\n```bash\nmake cake. now\n```\n*smiles* Enjoy the cake, friend!")
    assert split(text) == ["Shopping list.", "eggs. milk. flour and sugar.",
                           "Then run: Enjoy the cake, friend!"]  # "Then run:" is short


def test_waits_for_what_decides_a_cut() -> None:
    splitter = SentenceSplitter(EVERY_SENTENCE)
    assert splitter.feed("It grew 3.") == []  # "3.5"?
    assert splitter.feed("5 times") == []
    assert splitter.feed(". ") == []  # ". Then" or ". then"?
    assert splitter.feed("The end") == ["It grew 3.5 times."]
    assert splitter.feed(". Dr") == ["The end."]
    assert splitter.feed(". Who. ") == []  # "Dr." never ends a sentence; "Who." might
    assert splitter.flush() == ["Doctor Who."]


def test_splitter_is_reusable_after_flush() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("```\nopen fence") == []
    assert splitter.flush() == []
    assert splitter.feed("Hello again, my dear old friend, it is me.") == [
        "Hello again, my dear old friend,"]
    assert splitter.flush() == ["it is me."]


# -- the way the stream is cut never matters --------------------------------------------------

FRAGMENTS = [
    "Hello there. ", "Dr. Smith", " e.g. ", "i.e.", " etc. ", "3.5", " U.S. ", "10:30",
    "https://example.com/a.b?x=1", " bob@example.com", "...", "…", " — ", " - ", ", ", "; ",
    ": ", "! ", "? ", "?!", ". ", ".", "\n", "\n\n", "# ", "## Title\n", "- ", "* ", "1. ",
    "> ", "**bold**", "*laughs*", "(smiles)", "`code`", "`", "```", "```python\nx = 1.5\n```\n",
    "~~~", "---\n", "| a | b |\n", "[link](http://x.io/y.z)", "$3.50", "5-10", "🎉", "C#",
    "word", "Another sentence", " the", " and", " capital", "Yes", " ok", "  ", "\t", "No. 5",
    '"Quoted."', "(a, b)", "_it_", "~~x~~", "<b>", "3", "x",
]
texts = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join),
    st.text(alphabet=st.sampled_from(list("ab AB.,;:!?-—…`*_#>|~()[]\n19$@/'\"")), max_size=120),
)


@settings(max_examples=400, deadline=None)
@given(text=texts, data=st.data())
def test_streaming_gives_the_same_chunks_as_one_delta(text: str, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=len(text)))
    assert streamed(text, cuts) == split(text)


@settings(max_examples=200, deadline=None)
@given(text=texts, data=st.data())
def test_block_filter_output_does_not_depend_on_deltas(text: str, data: st.DataObject) -> None:
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=len(text)))))
    whole = BlockFilter()
    expected = whole.feed(text) + whole.flush()
    pieces = BlockFilter()
    got = "".join(pieces.feed(text[a:b]) for a, b in zip([0, *cuts], [*cuts, len(text)],
                                                          strict=True))
    assert got + pieces.flush() == expected


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_chunks_are_clean_speech(text: str) -> None:
    for chunk in split(text):
        assert chunk == chunk.strip() and re.search(r"\w", chunk)
        assert not re.search(r"[*`#_~|\\^{}\[\]<\n]|\s{2}", chunk), chunk
        assert not re.search(r"[\U0001F300-\U0001FAFF]", chunk)
