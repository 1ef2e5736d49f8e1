"""Words for the full-text index, and the kinds of memory recall weighs differently."""

from __future__ import annotations

from koe.memory.index.terms import Kind, kind_of, stem, terms, text_key


def test_forms_of_a_word_meet() -> None:
    for forms in (("decide", "decided", "deciding", "decides"), ("book", "booked", "booking",
                  "books"), ("stop", "stopped", "stops"), ("party", "parties"),
                  ("hide", "hides"), ("insures", "insurance"), ("walks", "walker")):
        assert len({stem(f) for f in forms}) == 1, forms
    assert stem("coffee") == "coffee" and stem("free") == "free"


def test_terms_keep_content_words_only() -> None:
    assert terms("My sister Anna's birthday is on the 3rd of March!") == [
        "sist", "anna", "birthday", "3rd", "march"]
    assert terms("Okay, thanks, I'm fine with that.") == ["thank", "fin"]
    assert terms("It's five o'clock") == ["fiv", "oclock"]
    assert terms("東京に行きます") == ["東", "京", "に", "行", "き", "ま", "す"]


def test_kinds() -> None:
    assert kind_of("user", "My sister Anna's birthday is on the third of March.") \
        == Kind.STATEMENT
    assert kind_of("user", "The boiler service is booked for the 5th of December.") \
        == Kind.STATEMENT
    for chatter in ("When is Anna's birthday?", "what time is it", "Set a timer for ten "
                    "minutes.", "Remind me to call mum.", "Okay, thanks!"):
        assert kind_of("user", chatter) == Kind.CHATTER, chatter
    assert kind_of("assistant", "Noted: your sister's birthday is March 3rd.") == Kind.ASSISTANT
    assert kind_of("summary", "We planned the dinner.") == Kind.SUMMARY
    assert Kind.STATEMENT < Kind.CHATTER  # lower is more durable


def test_exact_repeats_share_a_key() -> None:
    assert text_key("Okay, thanks!") == text_key("okay thanks") == text_key(" OKAY,  thanks.")
    assert text_key("Okay, thanks!") != text_key("Okay, thank you!")
