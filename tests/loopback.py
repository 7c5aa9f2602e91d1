"""A bare HTTP/1.1 server on loopback that answers with the bytes a test chooses.

The guarded client's tests and the HTTP/1.1 pool's tests both need a peer that can be hostile
(slow, truncated, malformed, hanging up) and that says what it saw: each request as it arrived,
and how many connections it accepted, has open and saw end. uvicorn (`tests/servers.py`) is too
well-behaved for that, so this is an asyncio server with a handler per test. Here too are the
handlers' helpers for writing a response, and `FakeDNS`, the only resolver these tests use.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fedipub.netguard import ParsedTarget

TIMEOUT = 2.0  # seconds any one step may take; every step here takes milliseconds

Headers = Sequence[tuple[str, str]] | Mapping[str, str]


@dataclass
class Seen:
    """A request as it arrived: `head` is the request line and headers, byte for byte."""

    connection: int  # which accepted connection carried it, from 1
    nth: int  # its place on that connection, from 1
    method: str
    path: str
    head: bytes
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Seen, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class LoopbackServer:
    """Reads requests one after another on each connection and lets `handler` answer them."""

    handler: Handler
    host: str = "127.0.0.1"
    port: int = 0
    accepted: int = 0
    ended: int = 0  # connections that closed, by either side
    open: int = 0
    most_open: int = 0
    requests: list[Seen] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    def target(self) -> ParsedTarget:
        return ParsedTarget("http", self.host, self.port)

    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"http://{self.authority()}{path}"

    async def until(self, predicate: Callable[[], bool]) -> None:
        """Wait, briefly, for the server's counts to satisfy `predicate`."""
        async with asyncio.timeout(TIMEOUT), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        connection, nth = self.accepted, 0
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.append(writer)
        await self._notify()
        try:
            while not writer.is_closing():
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head[:-4].decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                nth += 1
                seen = Seen(connection, nth, method, path, head, headers, body)
                self.requests.append(seen)
                await self._notify()
                await self.handler(seen, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client hung up
        finally:
            writer.close()
            self.open -= 1
            self.ended += 1
            self._tasks.discard(task)
            await self._notify()

    async def stop(self, server: asyncio.Server) -> None:
        server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@asynccontextmanager
async def running(
    handler: Handler, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> AsyncIterator[LoopbackServer]:
    state = LoopbackServer(handler, host)
    server = await asyncio.start_server(state.serve, host, 0, ssl=tls)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        await state.stop(server)


def response_bytes(status: int, headers: Headers, body: bytes, version: str = "HTTP/1.1") -> bytes:
    """A response as sent: a content-length is added unless `headers` has one."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    lines = [f"{version} {status} Status", *(f"{name}: {value}" for name, value in pairs)]
    if not any(name.lower() == "content-length" for name, _ in pairs):
        lines.append(f"content-length: {len(body)}")
    return "\r\n".join([*lines, "", ""]).encode("latin-1") + body


async def write_response(
    writer: asyncio.StreamWriter,
    status: int,
    headers: Headers,
    body: bytes,
    version: str = "HTTP/1.1",
) -> None:
    writer.write(response_bytes(status, headers, body, version))
    await writer.drain()


def reply(
    status: int = 200, body: bytes = b"ok", headers: Headers = (), version: str = "HTTP/1.1"
) -> Handler:
    """A handler that gives every request the same response."""

    async def handler(
        seen: Seen, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await write_response(writer, status, headers, body, version)

    return handler


def answer_when_released(arrived: asyncio.Event, release: asyncio.Event, body: bytes) -> Handler:
    """A handler that sets `arrived` when a request comes and answers it once `release` is set."""

    async def handler(
        seen: Seen, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        arrived.set()
        await release.wait()
        await write_response(writer, 200, {}, body)

    return handler


class FakeDNS:
    """Answers from a table, one answer per lookup (the last one repeats), and records lookups.

    An unknown name fails as getaddrinfo does.
    """

    def __init__(self, answers: Mapping[str, list[list[str]]]) -> None:
        self.answers = {host: list(queue) for host, queue in answers.items()}
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "not in the test's table")
        queue = self.answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]
