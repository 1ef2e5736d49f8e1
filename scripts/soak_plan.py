"""What the soak says to koe, and what it expects back: a plan of utterances in blocks.

Each block starts with the wake phrase after a silence longer than the follow-up window, goes
on with follow-ups inside the window (no wake phrase), asks for a long story and talks over it,
and ends with a remark to someone else outside the window, which koe must neither answer nor
store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["ask", "story", "ignored"]

QUESTIONS = [
    "Remember that my bike lock code is four one seven two.",
    "What is a good stretch for a stiff neck?",
    "What is my bike lock code?",
    "Give me a word that rhymes with orange.",
    "How many minutes are in three hours?",
    "My friend Ravi is visiting on Sunday.",
    "Who is visiting on Sunday?",
    "Suggest a quick vegetarian dinner.",
    "What is the tallest mountain in Africa?",
    "Thanks, that's all for now.",
]
STORIES = [
    "Tell me a long story about a lighthouse keeper and his clever cat.",
    "Tell me a long story about a dragon who learns to bake bread.",
    "Tell me a long story about two friends who sail around the world.",
]
INTERRUPTIONS = [
    "Stop. What is two plus two?",
    "Wait, how many days are in a week?",
    "Okay stop. What colour is the sky?",
]
ASIDES = [  # said to someone else in the room: no wake phrase, outside the window
    "I think the kettle is boiling again.",
    "Can you pass me the blue folder please?",
    "We should leave in about ten minutes.",
]


@dataclass(frozen=True)
class Utterance:
    kind: Kind
    text: str
    interruption: str = ""  # story: what the user says over the reply
    answers: int = 1  # turns koe should answer for it (a story and its interruption: 2)


def plan(turns: int, wake_phrase: str) -> list[Utterance]:
    """Utterances whose answers add up to at least `turns`."""
    said: list[Utterance] = []
    answers = block = 0
    asked = 0
    while answers < turns:
        story = STORIES[block % len(STORIES)]
        cut_in = INTERRUPTIONS[block % len(INTERRUPTIONS)]
        for place in range(5):
            question = QUESTIONS[asked % len(QUESTIONS)]
            asked += 1
            if place == 0:
                question = f"{wake_phrase.capitalize()}, {question[0].lower()}{question[1:]}"
            said.append(Utterance("ask", question))
            if place == 2:
                said.append(Utterance("story", story, interruption=cut_in, answers=2))
        said.append(Utterance("ignored", ASIDES[block % len(ASIDES)], answers=0))
        answers = sum(u.answers for u in said)
        block += 1
    return said
