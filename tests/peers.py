"""A minimal fediverse peer for federation tests: it serves actor and key documents on
loopback, records what it is sent, and signs requests the way Mastodon does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedipub.keys import public_pem
from fedipub.signatures import SignatureFormat, sign_request
from tests.servers import serve

AS2 = "application/activity+json"


@dataclass
class Served:
    status: int
    body: bytes
    content_type: str = AS2
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Peer:
    """Documents by path; every request is recorded in `received`."""

    def __init__(self) -> None:
        self.base = ""
        self.documents: dict[str, Served] = {}
        self.received: list[Received] = []
        self.inbox_status = 202
        # Answer 401 to POSTs not signed with RFC 9421, as a server that dropped cavage would.
        self.require_rfc9421 = False

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def put(
        self, path: str, document: dict[str, Any], *, status: int = 200, content_type: str = AS2
    ) -> None:
        self.documents[path] = Served(status, orjson.dumps(document), content_type)

    def redirect(self, path: str, location: str) -> None:
        self.documents[path] = Served(302, b"", "text/plain", {"location": location})

    def add_actor(self, username: str, key: rsa.RSAPrivateKey, **extra: Any) -> dict[str, Any]:
        actor_id = self.url(f"/users/{username}")
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": "Person",
            "preferredUsername": username,
            "name": username.title(),
            "inbox": f"{actor_id}/inbox",
            "outbox": f"{actor_id}/outbox",
            "followers": f"{actor_id}/followers",
            "endpoints": {"sharedInbox": self.url("/inbox")},
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": public_pem(key.public_key()),
            },
            **extra,
        }
        self.put(f"/users/{username}", document)
        return document

    def fetches_of(self, path: str) -> int:
        return sum(1 for r in self.received if r.method == "GET" and r.path == path)

    def inbox_posts(self) -> list[Received]:
        return [r for r in self.received if r.method == "POST"]

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            self.received.append(
                Received(request.method, request.url.path, dict(request.headers), body)
            )
            if request.method == "POST":
                if self.require_rfc9421 and "signature-input" not in request.headers:
                    return Response(status_code=401)
                return Response(status_code=self.inbox_status)
            path = request.url.path
            if request.url.query:
                path = f"{path}?{request.url.query}"
            served = self.documents.get(path) or self.documents.get(request.url.path)
            if served is None:
                return Response(status_code=404)
            return Response(
                served.body,
                status_code=served.status,
                media_type=served.content_type,
                headers=served.headers,
            )

        return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])


@contextmanager
def running_peer() -> Iterator[Peer]:
    peer = Peer()
    with serve(peer.app()) as base:
        peer.base = base
        yield peer


def signed_headers(
    method: str,
    url: str,
    body: bytes | None,
    key: rsa.RSAPrivateKey,
    key_id: str,
    *,
    signature_format: SignatureFormat = SignatureFormat.CAVAGE,
    now: float | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers of a request signed as Mastodon signs (cavage: `(request-target) host date
    digest content-type`, rsa-sha256), or in RFC 9421."""
    headers = {"host": urlsplit(url).netloc, **(extra or {})}
    if body is not None:
        headers["content-type"] = AS2
    moment = time.time() if now is None else now
    headers.update(
        sign_request(
            format=signature_format,
            method=method,
            url=url,
            headers=headers,
            body=body,
            private_key=key,
            key_id=key_id,
            now=int(moment),
        )
    )
    return {name.lower(): value for name, value in headers.items()}


def post_signed(
    url: str,
    document: dict[str, Any],
    key: rsa.RSAPrivateKey,
    key_id: str,
    **options: Any,
) -> httpx.Response:
    body = orjson.dumps(document)
    headers = signed_headers("POST", url, body, key, key_id, **options)
    return httpx.post(url, content=body, headers=headers)
