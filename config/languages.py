"""The spoken languages Whisper knows, by ISO code, so a setting is checked before any audio.

Kept here rather than read from faster-whisper: settings are validated by every command and
importing the speech stack for that would slow them all. tests/config checks the two agree.
"""

from __future__ import annotations

_CODES = """
af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw
he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my
ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt
uk ur uz vi yi yo zh yue
"""
WHISPER_LANGUAGES = frozenset(_CODES.split())

# Names people type instead of codes, for a hint.
COMMON_NAMES = {
    "english": "en", "german": "de", "deutsch": "de", "french": "fr", "spanish": "es",
    "italian": "it", "portuguese": "pt", "dutch": "nl", "japanese": "ja", "chinese": "zh",
    "korean": "ko", "russian": "ru", "polish": "pl", "turkish": "tr", "arabic": "ar",
    "hindi": "hi", "swedish": "sv", "ukrainian": "uk", "czech": "cs", "greek": "el",
}


def language_hint(value: str) -> str:
    """What to write instead of `value`."""
    code = COMMON_NAMES.get(value.strip().lower())
    if code:
        return f'use the code "{code}" for {value.strip().capitalize()}, or "auto" to detect it'
    return ('use an ISO 639-1 code Whisper knows, such as en, de, fr, es or ja, or "auto" to '
            "detect the language")
