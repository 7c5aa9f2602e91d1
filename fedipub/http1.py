"""POSTs over HTTP/1.1 on kept-alive connections: how the server delivers (and calls webhooks).

Why not httpx, which makes the GETs: a fan-out talks to a thousand hosts at once, and httpx,
httpcore and anyio together cost over a millisecond of event-loop time per request there, more
than signing it (bench/PROFILES.md). Here a connection is an asyncio Protocol: responses are
parsed by httptools (llhttp, the parser of Node.js, which uvicorn already brings), and the
request head is written here, every field checked so that none can split it. A request costs
a few callbacks.

Sockets go only to addresses the `Dialer` answered (the SSRF guard), with SNI and the
certificate checked against the host name. Each origin has at most `per_host` connections and
keeps idle ones for `keepalive` seconds; origins are kept in an LRU of `max_hosts`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from ssl import SSLContext
from typing import cast

import httptools

from fedipub.dialer import Dialer, ResolveError, ResolveTimeout
from fedipub.netguard import ParsedTarget

KEEPALIVE = 5.0  # seconds an idle connection is kept (httpx's default)


class Http1Error(Exception):
    """A request that got no complete answer; the message says why."""


class ConnectError(Http1Error):
    """No connection could be opened to any of the host's addresses."""


class ConnectTimeout(ConnectError):
    """Opening the connection (TLS handshake included) took longer than allowed."""


class RemoteProtocolError(Http1Error):
    """The peer broke HTTP/1.1, or closed the connection before its response ended."""


class InvalidRequest(Http1Error):
    """The request cannot be sent as given (a header with a line break, say)."""


class _Unanswered(RemoteProtocolError):
    """Closed before a byte of the response: on a reused connection, the peer had closed it
    while idle, and the request may be sent again on a new one."""


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes  # cut at the pool's `max_body`


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET = re.compile(r"/[!-~]*")  # visible ASCII: no space, no line break
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
MAX_HEAD = 64 * 1024  # bytes of status line and headers (llhttp sets no limit of its own)


def request_head(method: str, path: str, headers: Sequence[tuple[str, str]]) -> bytes:
    """The request line and header block; InvalidRequest for anything that could split it."""
    if not _TOKEN.fullmatch(method) or not _TARGET.fullmatch(path):
        raise InvalidRequest(f"invalid request line {method!r} {path!r}")
    lines = [f"{method} {path} HTTP/1.1"]
    for name, value in headers:
        if not _TOKEN.fullmatch(name) or not _FIELD_VALUE.fullmatch(value):
            raise InvalidRequest(f"invalid header {name!r}")
        lines.append(f"{name}: {value}")
    lines += ["", ""]
    return "\r\n".join(lines).encode("latin-1")


class _Connection(asyncio.Protocol):
    """One socket, one request at a time; the response is parsed by httptools (llhttp, the
    parser of Node.js and uvicorn), whose callbacks are the `on_*` methods."""

    def __init__(self, max_body: int) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._max_body = max_body
        self._transport: asyncio.Transport | None = None
        self._response: asyncio.Future[RawResponse] | None = None
        self._headers: dict[str, str] = {}
        self._body = bytearray()
        self._head_bytes = 0
        self._headers_done = False
        self._framed = False  # the body's end is marked (Content-Length or chunked)
        self._keep_alive = False
        self._heard = False
        self._spent = False  # more was sent than the response asked for: ignore it all
        self.reusable = False
        self.idle_since = 0.0

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._response is None or self._response.done():
            self.close()  # bytes nobody asked for: this connection cannot be trusted again
            return
        self._heard = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(RemoteProtocolError(f"malformed response: {exc}"))
            self.close()  # even if a response ended before the bad bytes
            return
        except httptools.HttpParserUpgrade:
            self._fail(RemoteProtocolError("the peer switched protocols"))
            return
        if not self._headers_done:  # so at most one read past the limit is parsed
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD:
                self._fail(RemoteProtocolError("the response headers are too large"))

    def eof_received(self) -> bool:
        if self._response is not None and self._headers_done and not self._framed:
            self._finish(reusable=False)  # a body that runs until the connection closes
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        if self._heard:
            self._fail(RemoteProtocolError("the connection closed before the response ended"))
        else:
            self._fail(_Unanswered("the connection closed without an answer"))

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self._response is None or self._response.done():
            self.close()  # a response nobody asked for, after the one that was
            self._spent = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._spent:
            return
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self._headers[key] = f"{self._headers[key]}, {text}" if key in self._headers else text

    def on_headers_complete(self) -> None:
        if self._parser.get_status_code() < 200:
            self._headers = {}  # a 1xx interim response: the real one follows
            return
        if self._spent:
            return
        self._headers_done = True
        # The body's end is marked by its length, or by chunked as the last transfer coding;
        # otherwise it runs until the connection closes (RFC 9112 §6.3).
        codings = self._headers.get("transfer-encoding", "").rsplit(",", 1)[-1]
        chunked = codings.strip().lower() == "chunked"
        self._framed = chunked or "content-length" in self._headers

    def on_body(self, body: bytes) -> None:
        if self._headers_done and self._response is not None and not self._response.done():
            self._body += body
            if len(self._body) > self._max_body:
                self._finish(reusable=False)  # the rest is never read

    def on_message_complete(self) -> None:
        if self._headers_done and not self._spent:
            self._finish(reusable=self._parser.should_keep_alive())

    # the request

    async def exchange(self, head: bytes, body: bytes) -> RawResponse:
        if self._transport is None or not self.is_open:
            raise _Unanswered("the connection is closed")
        self._response = asyncio.get_running_loop().create_future()
        self._headers, self._body, self._head_bytes = {}, bytearray(), 0
        self._headers_done = self._framed = self._heard = self.reusable = self._spent = False
        self._transport.write(head + body)
        try:
            return await self._response
        except BaseException:  # timed out or cancelled mid-response: the socket is unusable
            self.close()
            raise
        finally:
            self._response = None

    def close(self) -> None:
        self.reusable = False
        if self._transport is not None:
            self._transport.close()

    def _finish(self, *, reusable: bool) -> None:
        if self._response is None or self._response.done():
            return
        # A peer may answer before our body is all written (a 413, say): the rest of it would
        # then be read as the next request.
        written = self._transport is not None and not self._transport.get_write_buffer_size()
        self.reusable = reusable and written
        if not self.reusable:
            self.close()
        status = self._parser.get_status_code()
        body = bytes(self._body[: self._max_body])
        headers, self._headers = self._headers, {}
        self._response.set_result(RawResponse(status, headers, body))

    def _fail(self, error: Http1Error) -> None:
        if self._response is not None and not self._response.done():
            self._response.set_exception(error)
            self.close()


@dataclass(eq=False)
class _Origin:
    slots: asyncio.Semaphore
    idle: list[_Connection] = field(default_factory=list)
    in_flight: int = 0
    evicted: bool = False


class Http1Pool:
    """Requests to many origins; see the module docstring. Every error is an Http1Error, or
    the UnsafeURLError of the `Dialer`."""

    def __init__(
        self,
        dialer: Dialer,
        ssl_context: SSLContext,
        *,
        connect_timeout: float,
        max_body: int,
        max_hosts: int,
        per_host: int,
        keepalive: float = KEEPALIVE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._dialer = dialer
        self._ssl_context = ssl_context
        self._connect_timeout = connect_timeout
        self._max_body = max_body
        self._max_hosts = max_hosts
        self._per_host = per_host
        self._keepalive = keepalive
        self._clock = clock
        self._origins: OrderedDict[ParsedTarget, _Origin] = OrderedDict()
        self._last_sweep = clock()

    async def request(
        self,
        target: ParsedTarget,
        method: str,
        path: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
    ) -> RawResponse:
        """`headers` must include Host; Content-Length is added."""
        head = request_head(method, path, [*headers, ("content-length", str(len(body)))])
        origin = self._origin(target)
        origin.in_flight += 1
        try:
            async with origin.slots:
                reused = self._take_idle(origin)
                if reused is not None:
                    try:
                        return await self._exchange(origin, reused, head, body)
                    except _Unanswered:
                        pass  # the peer closed it while idle; once more, on a new connection
                fresh = await self._connect(target)
                return await self._exchange(origin, fresh, head, body)
        finally:
            origin.in_flight -= 1
            if origin.evicted and origin.in_flight == 0:
                self._close_idle(origin)

    def close(self) -> None:
        """Close every idle connection; requests in flight close theirs when they end."""
        for origin in self._origins.values():
            origin.evicted = True
            self._close_idle(origin)
        self._origins.clear()

    async def _exchange(
        self, origin: _Origin, connection: _Connection, head: bytes, body: bytes
    ) -> RawResponse:
        response = await connection.exchange(head, body)
        if connection.reusable and not origin.evicted and len(origin.idle) < self._per_host:
            connection.idle_since = self._clock()
            origin.idle.append(connection)
        else:
            connection.close()
        return response

    def _origin(self, target: ParsedTarget) -> _Origin:
        self._sweep()
        origin = self._origins.get(target)
        if origin is not None:
            self._origins.move_to_end(target)
            return origin
        origin = self._origins[target] = _Origin(asyncio.Semaphore(self._per_host))
        if len(self._origins) > self._max_hosts:
            _, oldest = self._origins.popitem(last=False)
            oldest.evicted = True
            if oldest.in_flight == 0:
                self._close_idle(oldest)
        return origin

    def _take_idle(self, origin: _Origin) -> _Connection | None:
        while origin.idle:
            connection = origin.idle.pop()
            if connection.is_open and self._clock() - connection.idle_since < self._keepalive:
                return connection
            connection.close()
        return None

    def _sweep(self) -> None:
        """Close connections idle past `keepalive`, at most once per `keepalive` seconds: a
        fan-out leaves one behind at each of a thousand hosts."""
        now = self._clock()
        if now - self._last_sweep < self._keepalive:
            return
        self._last_sweep = now
        for origin in self._origins.values():
            kept = [c for c in origin.idle if c.is_open and now - c.idle_since < self._keepalive]
            for connection in origin.idle:
                if connection not in kept:
                    connection.close()
            origin.idle = kept

    @staticmethod
    def _close_idle(origin: _Origin) -> None:
        for connection in origin.idle:
            connection.close()
        origin.idle.clear()

    async def _connect(self, target: ParsedTarget) -> _Connection:
        try:
            addresses = await self._dialer.addresses(
                target.host, target.port, self._connect_timeout
            )
        except ResolveTimeout as exc:
            raise ConnectTimeout(str(exc)) from exc
        except ResolveError as exc:
            raise ConnectError(str(exc)) from exc
        tls = self._ssl_context if target.scheme == "https" else None
        loop = asyncio.get_running_loop()
        failure: Http1Error = ConnectError(f"{target.host} has no address")
        for address in addresses:
            try:
                async with asyncio.timeout(self._connect_timeout):
                    _, connection = await loop.create_connection(
                        lambda: _Connection(self._max_body),
                        address,
                        target.port,
                        ssl=tls,
                        server_hostname=target.host if tls is not None else None,
                    )
                return connection
            except TimeoutError:
                failure = ConnectTimeout(f"connecting to {address} port {target.port} timed out")
            except OSError as exc:  # refused, unreachable, or TLS (certificate, handshake)
                failure = ConnectError(f"{address} port {target.port}: {exc}")
        raise failure
