"""Conditional GET: an ETag on every page and document, and 304 Not Modified when the client
already has it.

`ConditionalGetMiddleware` does what Django's middleware of the same name does. A GET answered
200, with no ETag yet, no `Cache-Control: no-store` and no cookie, is buffered (up to
`MAX_BUFFERED` bytes; anything larger passes untouched) and given a weak ETag, a hash of its
body: exact, whatever changed (a comment, an edit, a like undone, a moderation decision, a
template), and different for the HTML and the AS2 representation of one URL, which `Vary:
Accept` keeps apart in caches. Weak, since a proxy that compresses the body keeps it
equivalent, not byte-identical (RFC 9110 §8.8.1).

`Last-Modified` is the route's to set (`http_date(latest(...))`), since only it knows the dates
behind a page. The middleware answers conditional requests as RFC 9110 §13.2.2 orders:
`If-None-Match` when present (browsers and caches send it, and it is exact); otherwise
`If-Modified-Since` against that date. A date cannot see a change that brings no newer date
(an Undo, a comment approved after it was written), so the ETag, not the date, is what makes a
304 safe; clients that only send dates may see such a change late.

The 304 keeps the headers RFC 9110 §15.4.5 asks for (ETag, Last-Modified, Cache-Control, Vary,
…); the security headers are added around it by the security HeadersMiddleware, as on any response.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BUFFERED = 2_000_000
# What a 304 carries of the 200 it stands for (RFC 9110 §15.4.5), and CORS for embeds.
_KEPT_ON_304 = frozenset(
    {
        b"cache-control",
        b"content-location",
        b"date",
        b"etag",
        b"expires",
        b"last-modified",
        b"vary",
        b"access-control-allow-origin",
    }
)


def http_date(moment: datetime) -> str:
    """An IMF-fixdate (RFC 9110 §5.6.7): `Sun, 29 Nov 2026 10:00:00 GMT`."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def latest(moments: Iterable[datetime | None], now: datetime) -> datetime:
    """The newest of `moments`, never later than `now`: a peer's clock may run ahead, and a
    Last-Modified in the future would make caches keep a page longer than they should."""
    known = [m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments if m is not None]
    return min(max(known, default=now), now)


def last_modified(response: Response, moments: Iterable[datetime | None]) -> Response:
    """`response` with a Last-Modified of the newest of `moments`."""
    response.headers["Last-Modified"] = http_date(latest(moments, datetime.now(UTC)))
    return response


def weak_etag(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def etag_matches(if_none_match: str, etag: str) -> bool:
    """The weak comparison of RFC 9110 §8.8.3.2, which If-None-Match uses."""
    wanted = _opaque(etag)
    return any(
        candidate.strip() == "*" or _opaque(candidate) == wanted
        for candidate in if_none_match.split(",")
    )


def not_modified_since(if_modified_since: str, last_modified: str) -> bool:
    try:
        since = parsedate_to_datetime(if_modified_since)
        modified = parsedate_to_datetime(last_modified)
    except (TypeError, ValueError):
        return False  # an unparsable date is ignored (RFC 9110 §13.1.3)
    if since.tzinfo is None or modified.tzinfo is None:
        return False
    return modified <= since


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _cacheable(message: Message) -> bool:
    headers = message.get("headers", [])
    cache_control = (_header(headers, b"cache-control") or "").lower()
    return (
        message["status"] == 200
        and _header(headers, b"etag") is None
        and _header(headers, b"set-cookie") is None
        and "no-store" not in cache_control
    )


def _is_fresh(request_headers: list[tuple[bytes, bytes]], etag: str, start: Message) -> bool:
    if_none_match = _header(request_headers, b"if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if_modified_since = _header(request_headers, b"if-modified-since")
    last_modified = _header(start.get("headers", []), b"last-modified")
    if if_modified_since is None or last_modified is None:
        return False
    return not_modified_since(if_modified_since, last_modified)


class ConditionalGetMiddleware:
    """Pure ASGI, like the security HeadersMiddleware: only the responses it tags are buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        passing = False

        async def flush() -> None:
            assert start is not None
            await send(start)
            for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

        async def send_conditional(message: Message) -> None:
            nonlocal start, size, passing
            if passing:
                await send(message)
            elif message["type"] == "http.response.start":
                if _cacheable(message):
                    start = message
                else:
                    passing = True
                    await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if message.get("more_body", False):
                    if size > MAX_BUFFERED:
                        passing = True  # too large to hash in memory: sent as it comes
                        await flush()
                    return
                await self._finish(scope, start, b"".join(chunks), send)
            else:
                await send(message)

        await self.app(scope, receive, send_conditional)

    async def _finish(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        etag = weak_etag(body)
        headers = [*start.get("headers", []), (b"etag", etag.encode("ascii"))]
        if _is_fresh(scope["headers"], etag, {**start, "headers": headers}):
            kept = [(k, v) for k, v in headers if k.lower() in _KEPT_ON_304]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
