from koe.voice.llm.sse import SseDecoder, SseEvent


def decode(lines: list[str]) -> list[SseEvent]:
    decoder = SseDecoder()
    events = [e for line in lines if (e := decoder.feed(line))]
    if last := decoder.flush():
        events.append(last)
    return events


def test_data_lines_dispatch_at_blank_lines() -> None:
    assert decode(["data: a", "", "data: b", ""]) == [SseEvent("a"), SseEvent("b")]


def test_comments_are_keep_alives() -> None:
    assert decode([": ping", "", ":", "data: x", ""]) == [SseEvent("x")]


def test_multi_line_data_joins_with_newlines() -> None:
    assert decode(["data: one", "data:two", "data:  three", ""]) == [
        SseEvent("one\ntwo\n three")]


def test_event_name_and_id() -> None:
    assert decode(["event: error", "id: 7", "data: {}", ""]) == [SseEvent("{}", "error", "7")]
    # the event name does not leak into the next event
    assert decode(["event: error", "data: 1", "", "data: 2", ""])[1].event == "message"


def test_unterminated_last_event_is_flushed() -> None:
    assert decode(["data: [DONE]"]) == [SseEvent("[DONE]")]


def test_event_without_data_is_dropped() -> None:
    assert decode(["event: ping", "", "retry: 100", ""]) == []
