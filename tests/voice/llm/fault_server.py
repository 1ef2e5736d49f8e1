"""A real HTTP server on 127.0.0.1 that speaks the chat-completions wire protocol, and breaks it
on request: each scenario is a path prefix, e.g. base URL http://127.0.0.1:PORT/rate-limit-once.

Scenarios cover each way a server can misbehave: refusing (status codes), silent, slow
(keep-alives only, one token then keep-alives, a trickle), endless (flood), garbage (bad JSON,
noise, a line that never ends) and closing mid-stream.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def chunk(text: str | None = None, finish: str | None = None, **extra: object) -> str:
    delta = {"content": text} if text is not None else {}
    body = {"object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(body)}\n\n"


HELLO = [chunk("Hel"), chunk("lo"), chunk(None, "stop"), "data: [DONE]\n\n"]


class FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultServer

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        scenario = self.path.strip("/").split("/")[0]
        self.server.requests.append((scenario, dict(self.headers), body))
        count = sum(1 for s, _, _ in self.server.requests if s == scenario)
        SCENARIOS[scenario](self, count)

    def do_GET(self) -> None:
        """GET <scenario>/models: the model list, or the scenario's refusal or misbehaviour."""
        scenario = self.path.strip("/").split("/")[0]
        if scenario == "unauthorized":
            _unauthorized(self, 1)
        elif scenario in ("silent", "trickle", "flood"):
            SCENARIOS[scenario](self, 1)
        else:
            self.send_json(200, {"object": "list", "data": [{"id": "test-model"}]})

    # --- building blocks ---------------------------------------------------------------------
    def send_json(self, status: int, payload: object, headers: dict[str, str] | None = None
                  ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self, chunked: bool = True) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def write_chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def stream(self, pieces: list[str], pause: float = 0.0) -> None:
        self.start_stream()
        for piece in pieces:
            self.write_chunk(piece)
            time.sleep(pause)
        self.end_stream()


def _ok(h: FaultHandler, n: int) -> None:
    h.stream(HELLO)


def _split_lines(h: FaultHandler, n: int) -> None:
    # Keep-alive comments, CRLF line ends, and every line cut across network chunks.
    text = ": keep-alive\r\n\r\n" + "".join(HELLO).replace("\n", "\r\n")
    h.stream([text[i:i + 7] for i in range(0, len(text), 7)], pause=0.002)


def _rate_limit_once(h: FaultHandler, n: int) -> None:
    if n == 1:
        h.send_json(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"})
    else:
        h.stream(HELLO)


def _rate_limit_always(h: FaultHandler, n: int) -> None:
    h.send_json(429, {"error": {"message": "quota"}}, {"Retry-After": "0"})


def _rate_limit_long(h: FaultHandler, n: int) -> None:
    h.send_json(429, {"error": {"message": "quota"}}, {"Retry-After": "3600"})


def _server_error(h: FaultHandler, n: int) -> None:
    h.send_json(500, {"error": {"message": "CUDA out of memory", "type": "server_error"}})


def _unauthorized(h: FaultHandler, n: int) -> None:
    h.send_json(401, {"error": {"message": "Incorrect API key provided"}})


def _bad_model(h: FaultHandler, n: int) -> None:
    h.send_json(404, {"error": {"message": "model 'nope' not found"}})


def _garbage(h: FaultHandler, n: int) -> None:
    h.stream(["data: {\"choices\": [{\"delta\": {\"content\": \"Hi\"}}]}\n\n",
              "data: <html>oops</html>\n\n"])


def _html_page(h: FaultHandler, n: int) -> None:
    data = b"<html><body>Please log in to the hotel wifi</body></html>"
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def _not_streaming(h: FaultHandler, n: int) -> None:
    h.send_json(200, {"choices": [{"index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": "Hello"}}]})


def _error_event(h: FaultHandler, n: int) -> None:
    h.stream([chunk("Hel"), 'event: error\ndata: {"error": {"message": "out of memory"}}\n\n'])


def _overflow_event(h: FaultHandler, n: int) -> None:
    h.stream([chunk("Hel"), 'event: error\ndata: {"error": {"message": "context overflow"}}\n\n'])


def _close_mid_chunked(h: FaultHandler, n: int) -> None:
    h.start_stream()
    h.write_chunk(chunk("Hel"))
    h.close_connection = True  # no final 0-length chunk: a truncated body


def _close_mid_plain(h: FaultHandler, n: int) -> None:
    h.start_stream(chunked=False)
    h.wfile.write(chunk("Hel").encode())
    h.wfile.flush()


def _slow_first_token(h: FaultHandler, n: int) -> None:
    # Keep-alives keep the connection busy but no token ever comes within the test's timeout.
    h.start_stream()
    for _ in range(40):
        h.write_chunk(": ping\n\n")
        time.sleep(0.1)
    h.end_stream()


def _stall_after_first(h: FaultHandler, n: int) -> None:
    h.start_stream()
    h.write_chunk(chunk("Hel"))
    time.sleep(3)
    h.end_stream()


def _usage(h: FaultHandler, n: int) -> None:
    usage = {"prompt_tokens": 40, "completion_tokens": 2,
             "prompt_tokens_details": {"cached_tokens": 32}}
    h.stream([chunk("Hi"), chunk(None, "stop"),
              f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n", "data: [DONE]\n\n"])


def _endless(h: FaultHandler, n: int) -> None:
    """Streams until the client goes away; records how far it got."""
    h.start_stream()
    try:
        for i in range(10_000):
            h.write_chunk(chunk(f"w{i} "))
            h.server.endless_sent = i + 1
            time.sleep(0.01)
        h.end_stream()
    except OSError:
        h.server.endless_stopped.set()


def _until_hung_up(h: FaultHandler, write: Callable[[int], None], pause: float) -> None:
    """Call `write(i)` every `pause` seconds until the client hangs up or the server stops."""
    try:
        i = 0
        while not h.server.closing.wait(pause):
            write(i)
            i += 1
    except OSError:
        h.server.hung_up.set()


def _silent(h: FaultHandler, n: int) -> None:
    """Reads the request and never answers, not even the status line."""
    h.server.closing.wait()


def _keepalive_only(h: FaultHandler, n: int) -> None:
    """Headers, then SSE comments for ever: a live connection, and no answer."""
    h.start_stream()
    _until_hung_up(h, lambda i: h.write_chunk(": keep-alive\n\n"), 0.05)


def _keepalive_after_first(h: FaultHandler, n: int) -> None:
    """One token, then only keep-alive comments: each one used to restart the read timeout."""
    h.start_stream()
    h.write_chunk(chunk("Hel"))
    _until_hung_up(h, lambda i: h.write_chunk(": keep-alive\n\n"), 0.05)


def _empty_chunks_after_first(h: FaultHandler, n: int) -> None:
    """One token, then well-formed chunks that carry no text, for ever."""
    h.start_stream()
    h.write_chunk(chunk("Hel"))
    _until_hung_up(h, lambda i: h.write_chunk(chunk("")), 0.05)


def _trickle(h: FaultHandler, n: int) -> None:
    """A character at a time, each well within the read timeout, for ever."""
    h.start_stream()
    _until_hung_up(h, lambda i: h.write_chunk(chunk("la ")), 0.05)


def _flood(h: FaultHandler, n: int) -> None:
    """Tokens as fast as the socket takes them, never a finish reason (a looping model)."""
    h.start_stream()
    _until_hung_up(h, lambda i: h.write_chunk(chunk("la " * 20)), 0.0)


def _noise(h: FaultHandler, n: int) -> None:
    """An event-stream content type over lines that are no event stream at all."""
    h.start_stream()
    _until_hung_up(h, lambda i: h.write_chunk(f"\x00\x7f garbage line {i} <html>\n"), 0.01)


def _no_line_breaks(h: FaultHandler, n: int) -> None:
    """One line that never ends."""
    h.start_stream()
    _until_hung_up(h, lambda i: h.write_chunk("x" * 65536), 0.0)


def _context_overflow(h: FaultHandler, n: int) -> None:
    # llama.cpp's words and error type for a prompt past its context size.
    h.send_json(400, {"error": {"code": 400, "type": "exceed_context_size_error",
                                "message": "the request exceeds the available context size, "
                                "try increasing it", "n_prompt_tokens": 5000, "n_ctx": 4096}})


def _slow_summary(h: FaultHandler, n: int) -> None:
    """Answers questions at once; a request to summarize a conversation never gets text."""
    _, _, body = h.server.requests[-1]
    last = (body.get("messages") or [{}])[-1].get("content", "")
    if last.startswith("Summarize"):
        _keepalive_only(h, n)
    else:
        h.stream(HELLO)


SCENARIOS: dict[str, Callable[[FaultHandler, int], None]] = {
    "ok": _ok, "split-lines": _split_lines, "rate-limit-once": _rate_limit_once,
    "rate-limit-always": _rate_limit_always, "rate-limit-long": _rate_limit_long,
    "server-error": _server_error, "unauthorized": _unauthorized, "bad-model": _bad_model,
    "garbage": _garbage, "html-page": _html_page, "not-streaming": _not_streaming,
    "error-event": _error_event, "close-mid-chunked": _close_mid_chunked,
    "close-mid-plain": _close_mid_plain, "slow-first-token": _slow_first_token,
    "stall-after-first": _stall_after_first, "usage": _usage, "endless": _endless,
    "silent": _silent, "keepalive-only": _keepalive_only,
    "keepalive-after-first": _keepalive_after_first,
    "empty-chunks-after-first": _empty_chunks_after_first, "trickle": _trickle,
    "flood": _flood, "noise": _noise, "no-line-breaks": _no_line_breaks,
    "context-overflow": _context_overflow, "overflow-event": _overflow_event,
    "slow-summary": _slow_summary,
}


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, sock: socket.socket | None = None) -> None:
        """On `port`, or on an already bound `sock` (which the server then owns)."""
        super().__init__(("127.0.0.1", port), FaultHandler, bind_and_activate=sock is None)
        if sock is not None:
            self.socket.close()
            self.socket = sock
            self.server_address = sock.getsockname()
            self.server_activate()
        self.requests: list[tuple[str, dict[str, str], dict]] = []
        self.endless_sent = 0
        self.endless_stopped = threading.Event()
        self.hung_up = threading.Event()  # a client closed a stream that had no end
        self.closing = threading.Event()  # set on shutdown: handlers that wait for ever stop

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-stream is what these tests are about

    def url(self, scenario: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{scenario}"


@contextmanager
def running_fault_server(port: int = 0, sock: socket.socket | None = None
                         ) -> Iterator[FaultServer]:
    server = FaultServer(port, sock)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.closing.set()
        server.shutdown()
        server.server_close()
