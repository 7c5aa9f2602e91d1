"""Requests cut out of a byte stream, and nothing more: the sinks of bench/ (the load
generator's ceiling, the fan-out's receivers) answer HTTP/1.1 without a framework, so that they
cost little beside the server they measure."""

from __future__ import annotations

import asyncio
from typing import cast


class Requests(asyncio.Protocol):
    """Calls `request(head)` once each request's body (Content-Length bytes, dropped as it
    arrives) has come in; `head` is lower-cased and ends with CRLF."""

    def __init__(self) -> None:
        self._buffer = b""
        self._head: bytes | None = None
        self._body_left = 0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            if self._head is None:
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                self._head = self._buffer[:end].lower() + b"\r\n"
                self._buffer = self._buffer[end + 4 :]
                self._body_left = int(header(self._head, b"content-length") or b"0")
            taken = min(self._body_left, len(self._buffer))
            self._buffer, self._body_left = self._buffer[taken:], self._body_left - taken
            if self._body_left:
                return
            head, self._head = self._head, None
            self.request(head)

    def request(self, head: bytes) -> None:
        raise NotImplementedError

    def answer(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)


def header(head: bytes, name: bytes) -> bytes | None:
    """A header's value in a lower-cased head that ends with CRLF."""
    start = head.find(b"\r\n" + name + b":")
    if start < 0:
        return None
    start += len(name) + 3
    return head[start : head.find(b"\r\n", start)].strip()
