"""The wake phrase, heard on the transcript, and the follow-up window after each reply.

Whisper writes a spoken "hey koe" in many ways: "Hey, Ko.", "Hey co", "Hey, Cole.", "Hey, go.",
"Echo", "Heiko". So the phrase is matched by sound, not by spelling: the transcript's first
words (normalised with `koe.voice.stt.wer.normalise`; one leading filler such as "um" or
"okay", or a repeated first word, "hey, hey koe", is passed over) are turned into a rough sound
key (spelling rules -> long and short vowels and consonant sounds, e.g. "hey koe" -> "hAkO",
"echo" -> "ekO", "hey joe" -> "hAJO"), and compared with the phrase's key by an edit distance
that charges little for what speech recognition confuses (a lost "h", a voiced for an unvoiced
consonant, a close vowel, a trailing "l") and a full edit for anything else. The best prefix
of the transcript matches when its similarity, 1 - distance / length of the phrase's key,
reaches `min_similarity`.

The gate: outside the follow-up window only speech that begins with the wake phrase is
admitted, the phrase cut off. After each reply (`replied`) the window stays open for
`run.follow_up_seconds`. The phrase alone ("Hey koe.") is admitted with an empty question,
`listening`: the loop answers it with a short acknowledgement (`ACKNOWLEDGEMENT`), not sent to
the model nor stored, and calls `woken` once it has played, so the question may follow without
the phrase. (With the phrase found on the transcript, koe knows of it only after the endpoint;
the user, who has paused, needs to hear that it was heard.) `admit` changes nothing, so the
loop may ask it about speculative transcripts.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from koe.config.schema import RunSettings
from koe.voice.stt.wer import normalise
from koe.voice.turns.own_voice import OwnVoice

# For "hey koe": "hey cole", "hey go", "echo" score 0.88; "hey kay" 0.81, "hey joe" 0.75.
MIN_SIMILARITY = 0.85
AFTER_WAKE_SECONDS = 5.0  # the phrase alone opens the window at least this long
ACKNOWLEDGEMENT = "Yes?"
FILLERS = frozenset({"ah", "and", "er", "erm", "hm", "hmm", "oh", "ok", "okay", "so", "uh", "um",
                     "well"})

# Spelling -> sound, applied in order to each lowercase word. Upper case stands for a long
# vowel or a consonant sound of its own (C "ch", J "j", S "sh", T "th", N "ng", W "ou",
# Y "oi"); lower case letters are themselves (short vowels).
_RULES: tuple[tuple[str, str], ...] = (
    (r"^kn", "n"), (r"^wr", "r"), (r"mb$", "m"), (r"([bdfgklmnprstvz])\1", r"\1"),
    (r"sch", "sk"), (r"ch(?=[rl]|o$)", "k"), (r"tch|ch", "C"),
    (r"dge|dg|j|g(?=[eiy])", "J"), (r"ph", "f"), (r"sh", "S"), (r"th", "T"), (r"wh", "w"),
    (r"ng", "N"), (r"ck|q|c(?![eiy])", "k"), (r"c", "s"), (r"x", "ks"),
    (r"eigh|ey|ay|ai|ei", "A"), (r"igh", "I"), (r"ee|ea", "E"), (r"oi|oy", "Y"),
    (r"oo|ew|ue", "U"), (r"ou", "W"), (r"oa|oe|oh|ow$|o$|o(?=l)", "O"),
    (r"a(?=[^aeiouAEIOUWY]e$)", "A"), (r"i(?=[^aeiouAEIOUWY]e$)", "I"),
    (r"o(?=[^aeiouAEIOUWY]e$)", "O"), (r"u(?=[^aeiouAEIOUWY]e$)", "U"),
    (r"^([^aeiouAEIOUWY])e$", r"\1E"), (r"(?<=[^aeiouAEIOUWY])e$", ""), (r"i$", "I"),
    (r"^([^aeiouAEIOUWY]+)y$", r"\1I"), (r"(?<=[^aeiouAEIOUWY])y(?=[^aeiouAEIOUWY])", "I"),
    (r"(?<=[^aeiouAEIOUWY])y$", "E"), (r"ie$", "E"), (r"u$", "U"), (r"au|aw", "o"),
    (r"(?<=[aeiouAEIOUWY])h", ""),
)
_VOWELS = frozenset("aeiouAEIOUWY")
# Pairs speech recognition confuses: substituting one for the other costs this.
_CLOSE: dict[frozenset[str], float] = {
    **{frozenset(p): 0.25 for p in ("Ae", "Aa", "Oo", "Uu", "Ei", "ao")},
    **{frozenset(p): 0.5 for p in ("AE", "OU", "OW", "pb", "td", "kg", "fv", "sz", "CJ", "SJ", "Tf",
                                   "lr", "mn", "NN")},
}
# Insertion or deletion: "h" is easily lost anywhere; an "l" or "r" only at the end, after a
# vowel ("koe" heard as "Cole"), not inside ("Chloe").
_CHEAP_GAP = {"h": 0.25}
_CHEAP_END = {"l": 0.5, "r": 0.5}


def sound_key(words: list[str]) -> str:
    """A rough sound spelling of normalised words, joined (word boundaries are not heard)."""
    return "".join(_word_key(w) for w in words)


@functools.lru_cache(maxsize=4096)
def _word_key(word: str) -> str:
    plain = unicodedata.normalize("NFKD", word)
    key = "".join(c for c in plain if c.isalnum() and not unicodedata.combining(c)).lower()
    for pattern, sound in _RULES:
        key = re.sub(pattern, sound, key)
    return key


def _substitution(a: str, b: str) -> float:
    if a == b:
        return 0.0
    if (a in _VOWELS) == (b in _VOWELS) and frozenset((a, b)) in _CLOSE:
        return _CLOSE[frozenset((a, b))]
    return 0.75 if a in _VOWELS and b in _VOWELS else 1.0


def _gaps(key: str) -> list[float]:
    """What inserting or deleting each sound of `key` costs."""
    costs = [_CHEAP_GAP.get(ch, 1.0) for ch in key]
    if len(key) > 1 and key[-1] in _CHEAP_END and key[-2] in _VOWELS:
        costs[-1] = _CHEAP_END[key[-1]]
    return costs


def sound_distance(a: str, b: str) -> float:
    """Weighted edit distance between two sound keys."""
    gaps_a, gaps_b = _gaps(a), _gaps(b)
    previous = [0.0]
    for gap in gaps_b:
        previous.append(previous[-1] + gap)
    for ca, gap_a in zip(a, gaps_a, strict=True):
        current = [previous[0] + gap_a]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + gap_a,
                               current[j - 1] + gaps_b[j - 1],
                               previous[j - 1] + _substitution(ca, cb)))
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class WakeMatch:
    words: int  # normalised words of the transcript that the phrase (and a filler) took
    similarity: float  # 1 - distance / length of the phrase's key


def find_wake_phrase(phrase: str, transcript: str,
                     min_similarity: float = MIN_SIMILARITY) -> WakeMatch | None:
    """Whether `transcript` begins with something that sounds like `phrase`, and how many of
    its normalised words that takes; None when it does not."""
    target = sound_key(normalise(phrase))
    words = normalise(transcript)
    if not target or not words:
        return None
    first = normalise(phrase)[0]
    skippable = words[0] in FILLERS or (words[0] == first and len(words) > 1 and
                                        words[1] == first)  # "um, hey koe"; "hey, hey koe"
    starts = [0, 1] if skippable and len(words) > 1 else [0]
    longest = len(normalise(phrase)) + 1  # Whisper may split a word of the phrase in two
    best: WakeMatch | None = None
    for start in starts:
        for end in range(start + 1, min(len(words), start + longest) + 1):
            distance = sound_distance(sound_key(words[start:end]), target)
            similarity = 1.0 - distance / len(target)
            if best is None or similarity > best.similarity:
                best = WakeMatch(end, similarity)
    return best if best is not None and best.similarity >= min_similarity else None


def strip_words(transcript: str, words: int) -> str:
    """The transcript after its first `words` normalised words, punctuation between cut too,
    with a capital first letter: "Hey, Ko. what time is it?" less 2 -> "What time is it?"."""
    taken = 0
    tokens = list(re.finditer(r"\S+", transcript))
    rest_at = len(transcript)
    for token in tokens:
        if taken >= words:
            rest_at = token.start()
            break
        taken += len(normalise(token.group()))
    rest = transcript[rest_at:].lstrip(" \t\n,.;:!?-–—…")
    return rest[:1].upper() + rest[1:]


AdmissionReason = Literal["always", "wake_phrase", "follow_up", "ignored", "empty", "echo"]


@dataclass(frozen=True)
class Admission:
    """What the gate decided about one utterance.

    `reason`: "always" (no wake phrase is set), "wake_phrase" (it began with the phrase),
    "follow_up" (inside the window after a reply), "ignored" (no phrase, outside the window:
    neither answer nor store it), "empty" (no words), "echo" (koe's own recent words, heard back:
    see own_voice.py).
    """

    admitted: bool
    question: str  # what to answer: the transcript less the wake phrase
    reason: AdmissionReason
    similarity: float = 0.0  # how close the wake phrase was, when it was found

    @property
    def listening(self) -> bool:
        """The wake phrase alone: acknowledge it and wait for the question."""
        return self.admitted and not self.question


class WakeGate:
    """Which utterances koe answers when a wake phrase is set (`run.wake_phrase`).

    Times are seconds on one clock (the loop's stream clock). Pass `admit` the time the
    utterance began: speech that started inside the follow-up window is admitted however long
    it runs. A reply cut short by barge-in is still a reply: call `replied` when it stops,
    before admitting the speech that interrupted it.
    """

    def __init__(self, settings: RunSettings | None = None,
                 min_similarity: float = MIN_SIMILARITY) -> None:
        settings = settings or RunSettings()
        if not 0.0 < min_similarity <= 1.0:
            raise ValueError(f"min_similarity must be in (0, 1], got {min_similarity}")
        self.phrase = settings.wake_phrase
        self.follow_up_seconds = settings.follow_up_seconds
        self.min_similarity = min_similarity
        self._open_until = float("-inf")
        self.own_voice = OwnVoice()

    @property
    def enabled(self) -> bool:
        return bool(self.phrase)

    def in_follow_up(self, now: float) -> bool:
        return now <= self._open_until

    def admit(self, transcript: str, now: float) -> Admission:
        """Whether to answer `transcript`, spoken from `now`, and the question to answer."""
        text = transcript.strip()
        if not normalise(text):
            return Admission(False, "", "empty")
        if self.own_voice.is_echo(text, now):
            return Admission(False, "", "echo")
        if not self.enabled:
            return Admission(True, text, "always")
        match = find_wake_phrase(self.phrase, text, self.min_similarity)
        if match is not None:
            return Admission(True, strip_words(text, match.words), "wake_phrase",
                             match.similarity)
        if self.in_follow_up(now):
            return Admission(True, text, "follow_up")
        return Admission(False, "", "ignored")

    def said(self, text: str, now: float) -> None:
        """koe started saying `text` at `now`: its echo is not to be taken for a question."""
        self.own_voice.said(text, now)

    def replied(self, now: float) -> None:
        """A reply ended (played whole or interrupted) at `now`: open the follow-up window."""
        self._open_until = max(self._open_until, now + self.follow_up_seconds)

    def woken(self, now: float) -> None:
        """The phrase alone was heard and acknowledged at `now`: the question may follow
        without it (for at least AFTER_WAKE_SECONDS, even with no follow-up window)."""
        window = max(self.follow_up_seconds, AFTER_WAKE_SECONDS)
        self._open_until = max(self._open_until, now + window)

    def close(self) -> None:
        """End the follow-up window now (e.g. the user said goodbye)."""
        self._open_until = float("-inf")
