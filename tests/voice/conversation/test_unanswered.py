"""Which earlier asking of a question a retry takes over: pure logic over stored turns."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from koe.memory.records import MemoryRecord
from koe.voice.conversation.unanswered import same_question, unanswered

Q = "Remember that my locker code is 4711."


def turn(role: str, text: str, t: float, conversation: str = "c1") -> MemoryRecord:
    return MemoryRecord(id=f"{conversation}-{t}", text=text, role=role,
                        conversation=conversation, timestamp=t)


def test_a_question_nothing_answered_is_found() -> None:
    asked = turn("user", Q, 1.0)
    assert unanswered([asked], Q) == asked


def test_an_answered_question_is_not() -> None:
    assert unanswered([turn("user", Q, 1.0), turn("assistant", "Noted.", 2.0)], Q) is None


def test_a_question_followed_by_another_one_was_not_answered() -> None:
    # The REPL: the first question failed, a second one was answered.
    asked = turn("user", Q, 1.0)
    records = [asked, turn("user", "What time is it?", 2.0), turn("assistant", "Noon.", 3.0)]
    assert unanswered(records, Q) == asked


def test_the_latest_failed_asking_across_conversations_wins() -> None:
    first, second = turn("user", Q, 1.0, "a"), turn("user", Q, 5.0, "b")
    assert unanswered([second, first], Q) == second


def test_case_and_spacing_do_not_make_a_new_question() -> None:
    assert same_question(Q, "  remember that my LOCKER code   is 4711. ")
    assert not same_question(Q, "Remember that my locker code is 4712.")


@given(st.lists(st.tuples(st.sampled_from(["user", "assistant", "summary"]),
                          st.sampled_from([Q, "Hi", "Noted."]),
                          st.sampled_from(["a", "b"])), max_size=12))
def test_found_means_asked_and_never_followed_by_an_answer(
        script: list[tuple[str, str, str]]) -> None:
    records = [turn(role, text, float(i), conv) for i, (role, text, conv) in enumerate(script)]
    found = unanswered(records, Q)
    if found is None:
        return
    assert found.role == "user" and found.text == Q
    later = [r for r in records if r.conversation == found.conversation
             and r.timestamp > found.timestamp]
    assert not later or later[0].role != "assistant"
