"""Inline markup a listener should not hear: code spans, links, emphasis, HTML, stage directions.

Works on one piece of text (a sentence or a few); block structure is `blocks.py`'s job.
"""

from __future__ import annotations

import re

# Inline code is usually a name ("run `koe doctor`"), worth saying; a longer span is code.
CODE_SPAN_MAX_WORDS = 3
CODE_SPAN_MAX_CHARS = 30
# A stage direction is short: "*laughs*", "(smiles warmly)", "*clears throat*".
STAGE_MAX_WORDS = 5

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_REFERENCE_LINK = re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]")
_FOOTNOTE = re.compile(r"\[\^?\d+\]")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'`]+")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>\n]*)?/?>")
_STRIKE = re.compile(r"~~.+?~~", re.S)
_EMPHASIS = [
    re.compile(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*", re.S),
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.S),
    re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)", re.S),
    re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=\S)\*(?!\*)"),
    re.compile(r"(?<!\w)_(?=[^\s_])([^_\n]+?)(?<=\S)_(?!\w)"),
]
_STAGE_WORD = re.compile(
    r"(?:laugh(?:s|ing)?|chuckl(?:es?|ing)|giggl(?:es?|ing)|smil(?:es?|ing)|grin(?:s|ning)?"
    r"|sigh(?:s|ing)?|wink(?:s|ing)?|nod(?:s|ding)?|shrug(?:s|ging)?|paus(?:es?|ing)"
    r"|gasp(?:s|ing)?|clears?|clearing|cough(?:s|ing)?|beam(?:s|ing)?|smirk(?:s|ing)?"
    r"|whisper(?:s|ing)?|sniff(?:s|ing)?|blush(?:es|ing)?|clap(?:s|ping)?|wav(?:es|ing)"
    r"|snicker(?:s|ing)?|yawn(?:s|ing)?|hums|humming|groan(?:s|ing)?|gulps?|sobs|sobbing"
    r"|cries|crying|excitedly|softly|warmly|gently|cheerfully|happily|sadly|thoughtfully"
    r"|playfully|sarcastically|dramatically|enthusiastically)",
    re.I,
)
# "*...*" alone between sentences, or "(...)" / "[...]" starting with a stage verb.
_STAR_SPAN = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n.!?]+?)(?<=\S)\*(?!\*)")
_BRACKET_SPAN = re.compile(r"[(\[]([^()\[\]\n]+)[)\]]")
_SENTENCE_EDGE_BEFORE = re.compile(r"(?:^|[.!?:…]\s*|\n\s*)$")
_SENTENCE_EDGE_AFTER = re.compile(r"^(?:\s*$|\s*[\n.!?]|\s+[A-Z\"“'‘])")


def strip_markup(text: str) -> str:
    """`text` with inline markdown, HTML and stage directions removed; words kept."""
    text = _CODE_SPAN.sub(_code_span, text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REFERENCE_LINK.sub(r"\1", text)
    text = _FOOTNOTE.sub("", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _URL.sub(_url_host, text)
    text = _HTML_TAG.sub(" ", text)
    text = _STRIKE.sub("", text)
    text = _remove_stage_directions(text)
    for pattern in _EMPHASIS:
        text = pattern.sub(r"\1", text)
    return text


def _code_span(match: re.Match[str]) -> str:
    code = match.group(2).strip()
    if len(code) > CODE_SPAN_MAX_CHARS or len(code.split()) > CODE_SPAN_MAX_WORDS:
        return ""
    return code


def _url_host(match: re.Match[str]) -> str:
    """A URL is said as its site ("example.com"); a trailing full stop stays a full stop."""
    url = match.group(0)
    tail = len(url) - len(url.rstrip(".,;:!?)"))
    url, rest = url[: len(url) - tail], url[len(url) - tail :]
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url).split("/")[0].split("?")[0]
    return host.split("@")[-1] + rest


def _remove_stage_directions(text: str) -> str:
    def star(match: re.Match[str]) -> str:
        words = match.group(1).split()
        if len(words) > STAGE_MAX_WORDS:
            return match.group(0)
        if _STAGE_WORD.fullmatch(words[0]):
            return " "
        before, after = match.string[: match.start()], match.string[match.end() :]
        standalone = _SENTENCE_EDGE_BEFORE.search(before) and _SENTENCE_EDGE_AFTER.match(after)
        return " " if standalone and words[0][0].islower() else match.group(0)

    def bracket(match: re.Match[str]) -> str:
        words = match.group(1).split()
        if words and len(words) <= STAGE_MAX_WORDS and _STAGE_WORD.fullmatch(words[0]):
            return " "
        return match.group(0)

    text = _STAR_SPAN.sub(star, text)
    return _BRACKET_SPAN.sub(bracket, text)
