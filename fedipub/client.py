"""The one guarded outbound HTTP client: every request the server makes goes through it.

What it guards against, and where:

- SSRF: sockets are opened only to addresses the `Dialer` (dialer.py) checked: by httpx through
  `_GuardedBackend` for GETs, by `http1` for POSTs. Redirects are followed here, hop by hop, and
  every hop goes through the same check.
- Slow peers: one deadline covers the whole call, redirects and body streaming included; per-read
  timeouts alone let a peer trickle a byte at a time forever (Mastodon CVE-2023-36461).
- Large and compressed bodies: the decoded body is capped while it streams (gzip bombs), and a
  Content-Length over the cap is refused before reading.
- Many hosts: one httpx pool scans all its connections for each queued request, which collapses
  to ~50 requests/s when delivering to ~1,000 hosts. So each origin gets a small client of its
  own, kept in an LRU, all sharing one SSL context and the guarded backend. POSTs (deliveries)
  go through `http1`'s leaner pool, with the same bounds.

Foreign exceptions end here: callers see FetchError (GET), DeliveryError (POST) or UnsafeURLError.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
import orjson

from fedipub.dialer import Dialer, ResolveError, Resolver, ResolveTimeout, system_resolver
from fedipub.errors import DeliveryError, FetchError, UnsafeURLError
from fedipub.http1 import ConnectTimeout, Http1Error, Http1Pool
from fedipub.mediatypes import is_acceptable
from fedipub.netguard import DEFAULT_PORTS, ParsedTarget, check_url
from fedipub.vocab import ACTIVITY_JSON, LD_JSON_AS

AS2_ACCEPT = f"{ACTIVITY_JSON}, {LD_JSON_AS}"

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
POST_TARGETS_KEPT = 4096
# Lower-case host name or IPv4 address, optional port, path and query of unreserved and
# reserved characters only (RFC 3986), so nothing to encode and no room for two readings.
_PLAIN_URL = re.compile(
    r"https?://[a-z0-9.-]+(?::[0-9]{1,5})?"
    r"(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*)?(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?"
)
# Only what httpx decodes without extra packages, so the size cap always sees decoded bytes.
_ACCEPT_ENCODING = "gzip, deflate"
# Not carried to another origin on a redirect (CVE-2018-18074 in requests, CVE-2022-27776 in curl).
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True)
class ClientSettings:
    """What the client may do; built from the server's settings in the lifespan."""

    user_agent: str
    # Development only: lets the server reach peers on loopback or a LAN, over plain http too.
    allow_private_addresses: bool = False
    connect_timeout: float = 5.0
    total_timeout: float = 15.0
    max_response_bytes: int = 2_000_000
    max_redirects: int = 5
    max_hosts: int = 512
    per_host_connections: int = 4


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, dialling only addresses the `Dialer` checked.

    httpcore passes the URL's host name separately to `start_tls` as `server_hostname`, so SNI
    and certificate verification still use the name while the socket goes to the checked IP.
    """

    def __init__(self, dialer: Dialer) -> None:
        self._dialer = dialer
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # Failures are raised as httpcore's own errors, which httpx maps like any failed connect.
        try:
            *others, last = await self._dialer.addresses(host, port, timeout)
        except ResolveTimeout as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except ResolveError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        for address in others:
            with contextlib.suppress(httpcore.ConnectError, httpcore.ConnectTimeout):
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
        return await self._inner.connect_tcp(last, port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (and its exception mapping), its pool dialling through the guard.

    httpx 0.28 takes no network backend, so the pool it builds is replaced by an equal one that
    uses the guarded backend. The canary tests in tests/integration/test_client.py fail if this
    ever stops taking effect.
    """

    def __init__(
        self, backend: _GuardedBackend, ssl_context: ssl.SSLContext, connections: int
    ) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=connections,
            max_keepalive_connections=connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


@dataclass(eq=False)
class _Origin:
    """One origin's client, and how many requests use it (it is closed only once idle)."""

    client: httpx.AsyncClient
    in_flight: int = 0
    evicted: bool = False


class GuardedClient:
    """Every outbound GET and POST of the server; see the module docstring for the guards."""

    def __init__(self, settings: ClientSettings, *, resolver: Resolver | None = None) -> None:
        self._settings = settings
        dialer = Dialer(resolver or system_resolver, settings.allow_private_addresses)
        self._backend = _GuardedBackend(dialer)
        # Built once: loading the CA bundle takes milliseconds, too slow per origin.
        self._ssl_context = httpx.create_ssl_context()
        self._post_targets = functools.lru_cache(maxsize=POST_TARGETS_KEPT)(self._read_post_target)
        self._posts = Http1Pool(
            dialer,
            self._ssl_context,
            connect_timeout=settings.connect_timeout,
            max_body=settings.max_response_bytes,
            max_hosts=settings.max_hosts,
            per_host=settings.per_host_connections,
        )
        self._timeout = httpx.Timeout(settings.total_timeout, connect=settings.connect_timeout)
        self._origins: OrderedDict[ParsedTarget, _Origin] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> Response:
        """GET `url`, following up to `max_redirects` redirects; any final status is returned.

        `auth` runs again on every hop, so a signature covers the URL actually requested.
        """
        try:
            async with asyncio.timeout(self._settings.total_timeout):
                return await self._follow(url, dict(headers or {}), auth)
        except TimeoutError:
            raise FetchError(url, "timed out") from None

    async def fetch_json(
        self, url: str, *, accept: str = AS2_ACCEPT, auth: httpx.Auth | None = None
    ) -> tuple[str, dict[str, Any]]:
        """GET a JSON object served as AS2 (or as a JSON type named in `accept`).

        Returns the final URL after redirects and the object.
        """
        response = await self.get(url, headers={"accept": accept}, auth=auth)
        final, status = response.url, response.status
        if not 200 <= status < 300:
            raise FetchError(final, f"status {status}", status)
        content_type = response.headers.get("content-type", "")
        if not is_acceptable(content_type, accept):
            raise FetchError(final, f"unexpected content type {content_type!r}", status)
        try:
            document = orjson.loads(response.body)
        except orjson.JSONDecodeError as exc:
            raise FetchError(final, f"invalid JSON: {exc}", status) from None
        if not isinstance(document, dict):
            raise FetchError(final, "the JSON is not an object", status)
        return final, document

    async def post(
        self,
        url: str,
        body: bytes,
        *,
        headers: Mapping[str, str],
    ) -> Response:
        """POST `body` without following redirects; any status is returned for the caller to judge.

        Sent over `http1`, not httpx (see there why). `headers` may set Host (a signature covers
        it); the response body is cut at `max_response_bytes` rather than refused: the delivery
        has happened by then, and failing it would only deliver it again.
        """
        try:
            async with asyncio.timeout(self._settings.total_timeout):
                target, host, path = self.post_target(url)
                sent = {"host": host}
                sent.update((name.lower(), value) for name, value in headers.items())
                sent["user-agent"] = self._settings.user_agent
                raw = await self._posts.request(target, "POST", path, list(sent.items()), body)
        except TimeoutError:
            raise DeliveryError(url, "timed out") from None
        except ConnectTimeout:
            raise DeliveryError(url, "timed out") from None
        except UnsafeURLError as exc:
            raise UnsafeURLError(url, exc.reason) from None
        except Http1Error as exc:
            raise DeliveryError(url, f"{type(exc).__name__}: {exc}") from exc
        return Response(url, raw.status, MappingProxyType(raw.headers), raw.body)

    async def aclose(self) -> None:
        self._posts.close()
        origins = list(self._origins.values())
        self._origins.clear()
        await asyncio.gather(*(origin.client.aclose() for origin in origins), *self._closing)

    async def _follow(self, url: str, headers: dict[str, str], auth: httpx.Auth | None) -> Response:
        current, (target, _) = url, self._target(url)
        for _ in range(self._settings.max_redirects + 1):
            response = await self._exchange("GET", target, current, headers, auth, None, FetchError)
            location = response.headers.get("location")
            if response.status not in _REDIRECT_STATUSES or location is None:
                return response
            current = urljoin(current, location)
            next_target, _ = self._target(current)
            if next_target != target:
                headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
            target = next_target
        raise FetchError(url, f"more than {self._settings.max_redirects} redirects")

    def post_target(self, url: str) -> tuple[ParsedTarget, str, str]:
        """Where `post` sends `url`: the target, the Host header and the request target (a
        signature must cover these, not another reading of the URL); UnsafeURLError.

        Remembered for the last `POST_TARGETS_KEPT` URLs: a delivery reads its inbox's URL
        twice (to sign, to send), and the next article goes to the same inboxes.
        """
        return self._post_targets(url)

    def _read_post_target(self, url: str) -> tuple[ParsedTarget, str, str]:
        """`post_target`, read afresh.

        A URL of `_PLAIN_URL`'s shape needs no encoding and reads the same to every parser
        (nearly every inbox); it skips httpx's parse, a fifth of a delivery's event-loop time.
        """
        if not _PLAIN_URL.fullmatch(url) or "/." in url or url.endswith("?"):
            # httpx normalizes dot segments and keeps an empty query; urlsplit does not.
            target, parsed = self._target(url)
            # An empty query is dropped: verifiers rebuild the request target as the path,
            # plus `?query` only when there is one (Mastodon does), so a bare `?` sent would
            # not be the `?` they check.
            path = parsed.raw_path.decode("ascii").removesuffix("?")
            return target, parsed.netloc.decode("ascii"), path
        try:
            target = check_url(url, self._settings.allow_private_addresses)
        except ValueError as exc:
            raise UnsafeURLError(url, str(exc)) from None
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if target.port == DEFAULT_PORTS[target.scheme]:
            return target, target.host, path
        return target, f"{target.host}:{target.port}", path

    def _target(self, url: str) -> tuple[ParsedTarget, httpx.URL]:
        try:
            target = check_url(url, self._settings.allow_private_addresses)
            parsed = httpx.URL(url)
        except (ValueError, httpx.InvalidURL) as exc:
            raise UnsafeURLError(url, str(exc)) from None
        # urllib and httpx must agree on the URL's shape, or a parser differential slips past the
        # check: urlsplit drops leading blanks that httpx keeps (CVE-2023-24329), for one.
        port = parsed.port or DEFAULT_PORTS.get(parsed.scheme)
        if (parsed.scheme, port) != (target.scheme, target.port) or parsed.userinfo:
            raise UnsafeURLError(url, "the URL is ambiguous")
        # The host as httpx sends and dials it (IDNA-encoded): the name the guard resolves.
        return ParsedTarget(target.scheme, parsed.raw_host.decode("ascii"), target.port), parsed

    async def _exchange(
        self,
        method: str,
        target: ParsedTarget,
        url: str,
        headers: dict[str, str],
        auth: httpx.Auth | None,
        body: bytes | None,
        error: type[FetchError] | type[DeliveryError],
    ) -> Response:
        request_headers = httpx.Headers(headers)
        request_headers["user-agent"] = self._settings.user_agent
        request_headers["accept-encoding"] = _ACCEPT_ENCODING
        try:
            async with self._lease(target) as client:
                request = client.build_request(method, url, headers=request_headers, content=body)
                response = await client.send(request, auth=auth, stream=True)
                try:
                    content = await self._read_body(response, url, truncate=error is DeliveryError)
                finally:
                    await response.aclose()
        except UnsafeURLError as exc:
            raise UnsafeURLError(url, exc.reason) from None
        except httpx.TimeoutException as exc:
            raise error(url, "timed out") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise error(url, f"{type(exc).__name__}: {exc}") from exc
        received = MappingProxyType(
            {name.lower(): value for name, value in response.headers.items()}
        )
        return Response(url=url, status=response.status_code, headers=received, body=content)

    async def _read_body(self, response: httpx.Response, url: str, *, truncate: bool) -> bytes:
        cap = self._settings.max_response_bytes
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdecimal() and int(declared) > cap:
            raise FetchError(url, "response too large", response.status_code)
        body = bytearray()
        # aiter_bytes yields decoded bytes, so the cap holds against gzip bombs. One 64 KiB read
        # can still inflate to ~64 MB before this check sees it: bounded, if not small.
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > cap:
                if truncate:
                    return bytes(body[:cap])
                raise FetchError(url, "response too large", response.status_code)
        return bytes(body)

    @contextlib.asynccontextmanager
    async def _lease(self, target: ParsedTarget) -> AsyncIterator[httpx.AsyncClient]:
        origin = self._origins.get(target)
        if origin is None:
            origin = self._origins[target] = _Origin(self._new_client())
            if len(self._origins) > self._settings.max_hosts:
                _, oldest = self._origins.popitem(last=False)
                oldest.evicted = True
                self._close_if_done(oldest)
        else:
            self._origins.move_to_end(target)
        origin.in_flight += 1
        try:
            yield origin.client
        finally:
            origin.in_flight -= 1
            self._close_if_done(origin)

    def _new_client(self) -> httpx.AsyncClient:
        transport = _GuardedTransport(
            self._backend, self._ssl_context, self._settings.per_host_connections
        )
        # trust_env=False: an HTTP(S)_PROXY from the environment would resolve and connect
        # on our behalf, out of the guard's sight.
        return httpx.AsyncClient(transport=transport, timeout=self._timeout, trust_env=False)

    def _close_if_done(self, origin: _Origin) -> None:
        """Close an evicted origin's client in the background once no request uses it."""
        if origin.evicted and origin.in_flight == 0:
            task = asyncio.get_running_loop().create_task(origin.client.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
