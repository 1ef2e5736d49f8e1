"""Words for lexical search, and what kind of thing a memory says.

`terms()` reduces a text to its content words, lower-cased and lightly stemmed ("booked",
"booking" -> "book"), so the full-text index and the query agree on every word; stop words
are dropped. `kind_of()` sorts memories by how durable what they say is: a statement the
user made (about themselves or their world) outranks their passing chatter (questions,
commands, "okay"), summaries and the assistant's own replies, which mostly echo the user.
"""

from __future__ import annotations

import hashlib
import re
from enum import IntEnum

_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_UNSPACED}]|[^\W_{_UNSPACED}]+(?:'[^\W_]+)?")
_STOPWORDS_TEXT = """
a about above after again against all also am an and any are aren't as at be because been
before being below between both but by can can't cannot could couldn't did didn't do does
doesn't doing don't down during each few for from further get gets got had hadn't has hasn't
have haven't having he he'd he'll he's her here here's hers herself him himself his how how's
i i'd i'll i'm i've if in into is isn't it it's its itself just let's me more most mustn't my
myself no nor not now of off oh ok okay on once only or other ought our ours ourselves out over
own please really same say said says shan't she she'd she'll she's should shouldn't so some
such tell than that that's the their theirs them themselves then there there's these they
they'd they'll they're they've this those through to too uh um under until up us very was
wasn't we we'd we'll we're we've well were weren't what what's whats when when's where
where's which while who who's whom why why's will with won't would wouldn't yeah yes you you'd
you'll you're you've your yours yourself yourselves
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_SUFFIXES = (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""))
_DERIVED = ("ance", "ence", "ment", "ness", "ly", "er")
# Words that open a question or a request: what the user asks for is not what they told.
_ASKING_TEXT = """
what what's whats when where which who whom whose why how can could would will shall should
is are am was were do does did have has had may might must remind set tell play stop turn give
show call send add cancel start open close read sing count flip roll find check let spell
convert translate explain wake pause resume skip repeat
"""
ASKING = frozenset(_ASKING_TEXT.split())
# A statement needs at least this many content words to say something lasting.
MIN_STATEMENT_WORDS = 3


class Kind(IntEnum):
    """How durable a memory is, most durable first (the value is stored in the index)."""

    STATEMENT = 0  # the user telling something
    CHATTER = 1  # the user asking, commanding, or saying next to nothing
    SUMMARY = 2
    ASSISTANT = 3


def words(text: str) -> list[str]:
    """Lower-cased words; in scripts written without spaces each character is one."""
    return [w.replace("\u2019", "'") for w in _WORD.findall(text.casefold())]


def stem(word: str) -> str:
    """A light English suffix strip: plurals, -ing, -ed, a few derivations, a final e
    ("decide", "decided" and "deciding" meet as "decid")."""
    if word.endswith("'s"):
        word = word[:-2]
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2]:
                word = word[:-1]  # "stopped" -> "stopp" -> "stop"
            break
    for suffix in _DERIVED:  # "insurance" meets "insures", "walker" meets "walks"
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) >= 4 and word[-2] != "e":  # not "free", "coffee"
        word = word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Content words as the index keeps them, in order, repeats kept."""
    # Apostrophes go ("o'clock" -> "oclock"): the full-text tokenizer would split there.
    return [stem(w).replace("'", "") for w in words(text) if w not in STOPWORDS and w.strip("'")]


def kind_of(role: str, text: str) -> Kind:
    if role == "summary":
        return Kind.SUMMARY
    if role != "user":
        return Kind.ASSISTANT
    said = words(text)
    if (text.rstrip().endswith("?") or (said and said[0] in ASKING)
            or sum(w not in STOPWORDS for w in said) < MIN_STATEMENT_WORDS):
        return Kind.CHATTER
    return Kind.STATEMENT


def text_key(text: str) -> int:
    """The same words in the same order give the same key (case, spacing, punctuation aside):
    a signed 64-bit integer, for collapsing exact repeats."""
    digest = hashlib.blake2b(" ".join(words(text)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)
