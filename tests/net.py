"""Loopback ports made for certain: one that is free, one that refuses every connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def refusing_port() -> Iterator[socket.socket]:
    """A loopback socket bound and not listening: connecting to its port is refused for as long
    as it is held, and no other program can take the port. A server started on this socket
    (`running_fault_server(sock=...)`) makes the same port answer."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s


def port_of(sock: socket.socket) -> int:
    return sock.getsockname()[1]
