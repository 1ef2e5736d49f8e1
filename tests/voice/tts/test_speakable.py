"""Text cleaning for speech: what a listener should and should not hear."""

from __future__ import annotations

import pytest

from koe.voice.tts.blocks import BlockFilter
from koe.voice.tts.speakable import speakable


@pytest.mark.parametrize(("text", "said"), [
    ("# Getting started", "Getting started."),
    ("## Step 1: Preheat ##", "Step 1: Preheat."),
    ("**Bold**, *italic*, ***both*** and __also__ _this_.", "Bold, italic, both and also this."),
    ("- eggs\n- milk\n* flour\n+ sugar", "eggs. milk. flour. sugar."),
    ("1. Open it.\n2) Close it", "Open it. Close it."),
    ("> A quoted line\n> that goes on.", "A quoted line that goes on."),
    ("A paragraph that\nwraps over lines.", "A paragraph that wraps over lines."),
    ("Ingredients:\n- eggs", "Ingredients: eggs."),
    ("Read [the guide](https://example.com/guide.html) first.", "Read the guide first."),
    ("A picture ![a cat](cat.png) here.", "A picture here."),
    ("Go to https://www.example.com/a/b?c=1. Then stop.", "Go to example.com. Then stop."),
    ("Write to bob@example.com today.", "Write to bob@example.com today."),
    ("Run `koe doctor` now.", "Run koe doctor now."),
    ("Set `x = [i * 2 for i in range(10)]` here.", "Set here."),
    ("See:\n```python\nprint('hi')  # *laughs*\n```\nDone.", "See: Done."),
    ("~~~\nraw\n~~~\nAfter.", "After."),
    ("Before.\n\n---\n\nAfter.", "Before. After."),
    ("| Name | Age |\n|---|---|\n| Ann | 5 |", "Name, Age. Ann, 5."),
    ("Text <b>bold</b> and <br/> more.", "Text bold and more."),
    ("Keep ~~this~~ that.", "Keep that."),
    ("A fact[1] and a note[^2].", "A fact and a note."),
])
def test_markdown_is_removed_and_its_words_kept(text: str, said: str) -> None:
    assert speakable(text) == said


@pytest.mark.parametrize(("text", "said"), [
    ("*laughs* That's funny!", "That's funny!"),
    ("That's funny! *grins widely*", "That's funny!"),
    ("Well (smiles) I agree.", "Well I agree."),
    ("Sure [chuckles] why not.", "Sure why not."),
    ("*clears throat* Ahem. Hello.", "Ahem. Hello."),
    ("Hello. *in a soft voice* Are you awake?", "Hello. Are you awake?"),
    # emphasis and ordinary brackets are not stage directions
    ("It is *really* important.", "It is really important."),
    ("*Really* good.", "Really good."),
    ("Fruit (apples and pears) is good.", "Fruit (apples and pears) is good."),
])
def test_stage_directions_are_dropped(text: str, said: str) -> None:
    assert speakable(text) == said


@pytest.mark.parametrize(("text", "said"), [
    ("Great job 🎉👍🏽!", "Great job!"),
    ("🇺🇸 flag and 1️⃣ keycap", "flag and 1 keycap."),
    ("Hi 😀 there", "Hi there."),
    ("It is 20°C.", "It is 20°C."),
])
def test_emoji_are_dropped_and_useful_symbols_kept(text: str, said: str) -> None:
    assert speakable(text) == said


@pytest.mark.parametrize(("text", "said"), [
    ("It costs $3.50.", "It costs 3 dollars and 50 cents."),
    ("Only $1 or $0.99 or £2.01.", "Only 1 dollar or 99 cents or 2 pounds and 1 penny."),
    ("A $1.5M deal, $20k and €5bn.", "A 1.5 million dollars deal, 20 thousand dollars and "
                                      "5 billion euros."),
    ("Pi is 3.14159 and 1,000 is big; 50% off.", "Pi is 3.14159 and 1,000 is big; 50% off."),
    ("Meet at 10:30, 5:00 PM or 7:05 am.", "Meet at 10:30, 5 PM or 7 oh 5 AM."),
    ("Wait 5-10 minutes, 1990–2000.", "Wait 5 to 10 minutes, 1990 to 2000."),
    ("Call 555-1234 on 2024-05-01.", "Call 555-1234 on 2024-05-01."),
    ("Dr. Smith and Mr. Jones, e.g. here, i.e. now, etc.",
     "Doctor Smith and Mister Jones, for example here, that is now, et cetera."),
    ("In the U.S. and at St. Louis on Main St.",
     "In the US and at Saint Louis on Main Street."),
    ("J. R. R. Tolkien wrote it.", "J R R Tolkien wrote it."),
    ("C# is #1, ~5 ms, A -> B.", "C sharp is number 1, about 5 ms, A to B."),
    ("Well... I think — maybe — so...", "Well, I think, maybe, so."),
    ("Paris—the capital—is big.", "Paris, the capital, is big."),
    ("Really?! Yes!!!", "Really?! Yes!"),
])
def test_written_forms_become_spoken_forms(text: str, said: str) -> None:
    assert speakable(text) == said


@pytest.mark.parametrize("text", ["", "   ", "```\ncode\n```", "*laughs*", "🎉🎉", "---", "..."])
def test_nothing_to_say_is_empty(text: str) -> None:
    assert speakable(text) == ""


def test_block_filter_holds_a_line_start_until_it_knows_what_it_is() -> None:
    blocks = BlockFilter()
    assert blocks.feed("Intro line") == "Intro line"
    assert blocks.feed("\n-") == ""  # a bullet, a rule or "-5 degrees"?
    assert blocks.feed("-") == ""
    assert blocks.feed("-\n") == "\n"  # a rule: the paragraph has ended
    assert blocks.feed("1") == ""  # "1. item" or "1990 was..."?
    assert blocks.feed(". Item") == "Item"
    assert blocks.feed("\n```py\nx = 1\n") == "\n"  # the item ended; the code is dropped
    assert blocks.feed("```\nAfter") == "After"
    assert blocks.flush() == ""
