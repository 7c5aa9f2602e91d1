"""Signed requests through the guarded client, in the format each host accepts.

Two signature formats are in use: draft-cavage (what Mastodon sends and every server accepts
today) and RFC 9421 (what newer servers prefer). Like Fedify we knock with the format we
believe a host takes and, on a 401 (or 400, or 403 for GETs in authorized-fetch mode), knock
once more with the other; the format that worked is remembered per host.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from fedipub.client import AS2_ACCEPT, GuardedClient, Response
from fedipub.errors import FetchError
from fedipub.signatures import (
    PendingSignature,
    PrivateKey,
    SignatureFormat,
    prepare_signature,
    sign_message,
)
from fedipub.signer import Signer

_RETRY_GET = frozenset({400, 401, 403})
_RETRY_POST = frozenset({400, 401})
MAX_REMEMBERED_HOSTS = 10_000


class SignatureAuth(httpx.Auth):
    """Signs each request (each redirect hop too) with one key, in one format.

    With a `signer` the signature itself is made there (in a helper process, see signer.py),
    through httpx's async hook `async_auth_flow` for GETs and `signed_headers` for POSTs
    (which do not go through httpx); without one, inline.
    """

    def __init__(
        self,
        key: PrivateKey,
        key_id: str,
        signature_format: SignatureFormat,
        *,
        clock: Callable[[], float] = time.time,
        signer: Signer | None = None,
    ) -> None:
        self._key = key
        self._key_id = key_id
        self._format = signature_format
        self._clock = clock
        self._signer = signer

    def _prepare(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> PendingSignature:
        return prepare_signature(
            format=self._format,
            method=method,
            url=url,
            headers=headers,
            body=body,
            private_key=self._key,
            key_id=self._key_id,
            now=int(self._clock()),
        )

    async def signed_headers(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> dict[str, str]:
        """The signature headers (and those they cover: Host, Date, Digest) for a request;
        `headers` are the others it carries, lower-case."""
        pending = self._prepare(method, url, headers, body)
        if self._signer is None:
            return pending.headers(sign_message(pending.message, self._key))
        return pending.headers(await self._signer.sign(self._key, pending.message))

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        _apply(request, await self.signed_headers(*_parts(request)))
        yield request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        pending = self._prepare(*_parts(request))
        _apply(request, pending.headers(sign_message(pending.message, self._key)))
        yield request


def _parts(request: httpx.Request) -> tuple[str, str, dict[str, str], bytes | None]:
    headers = {name.lower(): value for name, value in request.headers.items()}
    body = request.content if request.method != "GET" else None
    return request.method, str(request.url), headers, body


def _apply(request: httpx.Request, signed: Mapping[str, str]) -> None:
    for name, value in signed.items():
        request.headers[name] = value


class FormatMemory:
    """Which signature format each host accepted last; bounded, least recently used first out."""

    def __init__(self, limit: int = MAX_REMEMBERED_HOSTS) -> None:
        self._limit = limit
        self._formats: OrderedDict[str, SignatureFormat] = OrderedDict()

    def first_choice(self, url: str) -> SignatureFormat:
        host = urlsplit(url).netloc.lower()
        found = self._formats.get(host)
        if found is None:
            return SignatureFormat.CAVAGE
        self._formats.move_to_end(host)
        return found

    def remember(self, url: str, signature_format: SignatureFormat) -> None:
        host = urlsplit(url).netloc.lower()
        self._formats[host] = signature_format
        self._formats.move_to_end(host)
        while len(self._formats) > self._limit:
            self._formats.popitem(last=False)


def _other(signature_format: SignatureFormat) -> SignatureFormat:
    return (
        SignatureFormat.RFC9421
        if signature_format is SignatureFormat.CAVAGE
        else SignatureFormat.CAVAGE
    )


class SignedHttp:
    """Signed GETs and POSTs with double-knocking."""

    def __init__(
        self,
        client: GuardedClient,
        formats: FormatMemory,
        *,
        clock: Callable[[], float] = time.time,
        signer: Signer | None = None,
    ) -> None:
        self.client = client
        self._formats = formats
        self._clock = clock
        self._signer = signer

    async def start(self) -> None:
        """Start the signing helpers now rather than at the first signature."""
        if self._signer is not None:
            await self._signer.start()

    def _auth(self, key: PrivateKey, key_id: str, fmt: SignatureFormat) -> SignatureAuth:
        return SignatureAuth(key, key_id, fmt, clock=self._clock, signer=self._signer)

    async def fetch_json(
        self, url: str, key: PrivateKey, key_id: str, *, accept: str = AS2_ACCEPT
    ) -> tuple[str, dict[str, Any]]:
        """A signed GET of a JSON document (servers in authorized-fetch mode require one)."""
        first = self._formats.first_choice(url)
        try:
            result = await self.client.fetch_json(
                url, accept=accept, auth=self._auth(key, key_id, first)
            )
        except FetchError as exc:
            if exc.status not in _RETRY_GET:
                raise
            result = await self.client.fetch_json(
                url, accept=accept, auth=self._auth(key, key_id, _other(first))
            )
            self._formats.remember(url, _other(first))
            return result
        self._formats.remember(url, first)
        return result

    async def post(
        self,
        url: str,
        body: bytes,
        key: PrivateKey,
        key_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        slot: contextlib.AbstractAsyncContextManager[Any] | None = None,
    ) -> Response:
        """POST signed; the request (and a second knock) is made inside `slot` when given,
        the first signature before it: a limit on requests in flight does not also hold
        requests waiting for their signature."""
        first = self._formats.first_choice(url)
        sent = {"content-type": "application/activity+json", **(headers or {})}
        signed = await self._signed(url, body, sent, self._auth(key, key_id, first))
        async with slot or contextlib.nullcontext():
            response = await self.client.post(url, body, headers=signed)
            if response.status in _RETRY_POST:
                other = self._auth(key, key_id, _other(first))
                retry = await self.client.post(
                    url, body, headers=await self._signed(url, body, sent, other)
                )
                if retry.status < 300:
                    self._formats.remember(url, _other(first))
                return retry
        if response.status < 300:
            self._formats.remember(url, first)
        return response

    async def _signed(
        self, url: str, body: bytes, headers: dict[str, str], auth: SignatureAuth
    ) -> dict[str, str]:
        """`headers` and the signature's, for the URL as `client.post` sends it."""
        target, host, path = self.client.post_target(url)
        sent_as = f"{target.scheme}://{host}{path}"
        return {**headers, **await auth.signed_headers("POST", sent_as, headers, body)}
