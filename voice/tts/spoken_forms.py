"""Written forms the synthesiser reads badly, rewritten the way a person would say them.

espeak-ng (Piper's phonemiser) ends a sentence at "Dr." or "etc.", reads "$3.50" as "dollar
three point five zero", "5-10" as "five dash ten", "—" and "..." as nothing at all, and names
every emoji and asterisk. Numbers stay digits: espeak says those well.
"""

from __future__ import annotations

import re
import unicodedata

# symbol: (one, many, hundredth: one, many); yen and rupee amounts are said whole.
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"), "¥": ("yen", "yen", "", ""),
    "₹": ("rupee", "rupees", "", ""),
}
_SCALES = {"k": "thousand", "m": "million", "mn": "million", "b": "billion", "bn": "billion",
           "thousand": "thousand", "million": "million", "billion": "billion",
           "trillion": "trillion"}
_MONEY = re.compile(
    r"([$€£¥₹])\s?(\d[\d,]*)(?:\.(\d+))?"
    r"(?:\s?(thousand|million|billion|trillion|bn|mn|[kKmMbB])\b)?"
)
# Abbreviations espeak stops at (or spells), said in full. The final "." is part of the match.
_ABBREVIATIONS = [(re.compile(pattern, flags), words) for pattern, words, flags in [
    (r"\be\.\s?g\.", "for example", re.I), (r"\bi\.\s?e\.", "that is", re.I),
    (r"\betc\.", "et cetera", re.I), (r"\bvs\.?(?=\s)", "versus", re.I),
    (r"\bapprox\.", "approximately", re.I), (r"\bcf\.", "compare", re.I),
    (r"\bDr\.", "Doctor", 0), (r"\bMrs\.", "Missus", 0), (r"\bMr\.", "Mister", 0),
    (r"\bMs\.", "Miz", 0), (r"\bProf\.", "Professor", 0), (r"\bJr\.", "Junior", 0),
    (r"\bSr\.", "Senior", 0), (r"\bMt\.", "Mount", 0), (r"\bSt\.(?=\s+[A-Z])", "Saint", 0),
    (r"\bSt\.", "Street", 0), (r"\bNo\.(?=\s?\d)", "number", 0), (r"\bFig\.", "figure", 0),
    (r"\bPh\.\s?D\.", "PhD", 0),
    (r"(?<=\d)\s?a\.?m\.?(?![\w.])", " AM", re.I), (r"(?<=\d)\s?p\.?m\.?(?![\w.])", " PM", re.I),
]]
_DOTTED_INITIALS = re.compile(r"\b(?:[A-Za-z]\.){2,}(?!\w)")
_INITIAL = re.compile(r"\b([A-HJ-Z])\.(?=\s+[A-Z])")  # "J. R. R. Tolkien"; not "I."
_ON_THE_HOUR = re.compile(r"\b(\d{1,2}):00\b(?!:)(\s?[AP]M\b)?")
_OH_MINUTES = re.compile(r"\b(\d{1,2}):0(\d)\b(?!:)")
# "5-10 minutes", "1990–2000"; not "555-1234", "2024-05-01" or "1-2.5"
_RANGE = re.compile(r"(?<![\w.,-])(\d{1,2}|\d{4})\s?[-–—]\s?(\d{1,2}|\d{4})(?![\w-]|[.,]\d)")
_ELLIPSIS = re.compile(r"\s*(?:\.\s?){2,}\.?|\s*…")  # a pause: a comma, or a stop at the end
_DASH = re.compile(r"\s+[-–—]{1,2}\s+|\s*[—–]\s*|(?<=\w)--(?=\w)")
_ARROW = re.compile(r"\s*(?:->|=>|→|⇒|⟶)\s*")
_SHARP = re.compile(r"\b([A-G])#")
_APPROX = re.compile(r"~(?=\d)")
_NUMBER_SIGN = re.compile(r"#(?=\d)")
_STRAY = re.compile(r"[*_`~#|\\^{}\[\]]")
_KEEP_SYMBOLS = set("°")


def spoken_forms(text: str) -> str:
    """Rewrite money, abbreviations, times, ranges and symbols; drop emoji and stray marks."""
    text = _MONEY.sub(_money, text)
    for pattern, words in _ABBREVIATIONS:
        text = pattern.sub(lambda m, w=words: w + _kept_stop(m), text)
    text = _DOTTED_INITIALS.sub(lambda m: m.group(0).replace(".", "").upper() + _kept_stop(m),
                                text)
    text = _INITIAL.sub(r"\1", text)
    text = _ON_THE_HOUR.sub(lambda m: m.group(1) + (m.group(2) or " o'clock"), text)
    text = _OH_MINUTES.sub(r"\1 oh \2", text)
    text = _RANGE.sub(r"\1 to \2", text)
    text = _ELLIPSIS.sub(lambda m: ". " if not m.string[m.end() :].strip() else ", ", text)
    text = _DASH.sub(", ", text)
    text = _ARROW.sub(" to ", text)
    text = _SHARP.sub(r"\1 sharp", text)
    text = _APPROX.sub("about ", text)
    text = _NUMBER_SIGN.sub("number ", text)
    text = _STRAY.sub(" ", text)
    return remove_unspeakable(text)


def remove_unspeakable(text: str) -> str:
    """Drop emoji, pictographs, control and private-use characters; keep letters, digits,
    punctuation and the symbols espeak reads well (currency, %, &, +, =, °)."""
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char in "\n\t":
            out.append(char)
        elif category in ("So", "Sk", "Me", "Cc", "Cf", "Co", "Cs", "Cn"):
            if char in _KEEP_SYMBOLS:
                out.append(char)
            elif category in ("So", "Cc"):
                out.append(" ")  # an emoji between words still separates them
        elif 0xFE00 <= ord(char) <= 0xFE0F:
            continue  # variation selectors (emoji presentation)
        else:
            out.append(char)
    return "".join(out)


def _kept_stop(match: re.Match[str]) -> str:
    """An abbreviation that ends the text also ended its sentence: keep that full stop."""
    rest = match.string[match.end() :]
    return "." if match.group(0).endswith(".") and not rest.strip() else ""


def _money(match: re.Match[str]) -> str:
    """"$3.50" -> "3 dollars and 50 cents"; "$1.5M" -> "1.5 million dollars"."""
    symbol, whole, fraction, scale = match.groups()
    one, many, hundredth, hundredths = _CURRENCIES[symbol]
    if scale:
        amount = whole + (f".{fraction}" if fraction else "")
        return f"{amount} {_SCALES[scale.lower()]} {many}"
    if fraction and not hundredth:
        return f"{whole}.{fraction} {many}"
    units = int(whole.replace(",", ""))
    cents = int((fraction or "0")[:2].ljust(2, "0"))
    small = f"{cents} {hundredth if cents == 1 else hundredths}"
    if not cents:
        return f"{whole} {one if units == 1 else many}"
    if not units:
        return small
    return f"{whole} {one if units == 1 else many} and {small}"
