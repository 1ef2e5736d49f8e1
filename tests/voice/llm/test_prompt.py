"""The prompt keeps a stable prefix: each turn's messages extend the last turn's."""

import itertools
from datetime import datetime

from koe.voice.conversation.prompt import ConversationPrompt, estimate_tokens, user_message
from koe.voice.llm.types import Message

DAY = datetime(2026, 11, 28, 9, 30)


def converse(prompt: ConversationPrompt, n: int, reply_len: int = 40) -> list[list[Message]]:
    sent = []
    for i in range(n):
        turn = prompt.prepare(f"question {i}", f"[memory {i}]", {f"m{i}"})
        sent.append(turn.messages)
        prompt.finish(turn, f"answer {i} " + "x" * reply_len, {f"u{i}", f"a{i}"})
    return sent


def is_prefix(shorter: list[Message], longer: list[Message]) -> bool:
    return longer[: len(shorter)] == shorter


def test_order_system_history_then_memories_and_question() -> None:
    prompt = ConversationPrompt(today=DAY)
    converse(prompt, 1)
    messages = prompt.prepare("new question", "[fresh memory]").messages
    assert messages[0].role == "system" and "Saturday, 28 November 2026" in messages[0].content
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[-1].content == "[fresh memory]\n\nnew question"


def test_each_turn_extends_the_previous_prompt_and_reply() -> None:
    prompt = ConversationPrompt(today=DAY)
    sent = converse(prompt, 5)
    for earlier, later in itertools.pairwise(sent):
        turn_reply = later[len(earlier)]
        assert is_prefix(earlier, later)
        assert turn_reply.role == "assistant"


def test_memories_shown_once_are_known() -> None:
    prompt = ConversationPrompt(today=DAY)
    converse(prompt, 2)
    assert prompt.known_ids() == {"m0", "m1", "u0", "a0", "u1", "a1"}


def test_trim_cuts_to_half_in_one_go_then_stays_stable() -> None:
    per_turn = estimate_tokens("question 0\n\n[memory 0]") + estimate_tokens("answer 0 " + "x" * 40)
    prompt = ConversationPrompt(history_tokens=per_turn * 6, today=DAY)
    sent = converse(prompt, 16)
    breaks = [i for i, (a, b) in enumerate(itertools.pairwise(sent), 1)
              if not is_prefix(a, b)]
    # 16 turns, a budget of ~6: the prefix breaks only a few times, never twice in a row.
    assert prompt.trims == len(breaks) >= 2
    assert all(b - a >= 3 for a, b in itertools.pairwise(breaks))
    history = sum(e.tokens for e in prompt.exchanges)
    assert history <= per_turn * 6
    # dropped turns' memories may be quoted again
    assert "m0" not in prompt.known_ids()


def test_zero_budget_keeps_no_history() -> None:
    prompt = ConversationPrompt(history_tokens=0, today=DAY)
    converse(prompt, 3)
    assert [m.role for m in prompt.prepare("q").messages] == ["system", "user"]


def test_no_memories_means_just_the_question() -> None:
    assert user_message("hi", "") == "hi"
    assert user_message("hi", "  \n") == "hi"
