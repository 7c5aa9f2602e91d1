"""A fedipub blog and a fediverse peer on loopback, and the activities peers send."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.app import create_app
from fedipub.config import Settings
from fedipub.keys import KeySet
from fedipub.vocab import AS_PUBLIC
from tests.blogs import ARTICLE, drain_deliveries, make_blog, publish, write_article
from tests.peers import Peer, post_signed, running_peer
from tests.servers import free_port, serve

AS2 = "application/activity+json"
_counter = itertools.count()


@dataclass
class RemoteUser:
    """An account on the peer: its actor document and key."""

    actor: dict[str, Any]
    key: rsa.RSAPrivateKey

    @property
    def id(self) -> str:
        return str(self.actor["id"])

    @property
    def key_id(self) -> str:
        return str(self.actor["publicKey"]["id"])


@dataclass
class World:
    blog: Settings
    base: str
    peer: Peer
    key: rsa.RSAPrivateKey
    actor: dict[str, Any]
    users: dict[str, RemoteUser] = field(default_factory=dict)

    @property
    def inbox(self) -> str:
        return f"{self.base}/users/blog/inbox"

    @property
    def key_id(self) -> str:
        return str(self.actor["publicKey"]["id"])

    @property
    def alice(self) -> RemoteUser:
        return RemoteUser(self.actor, self.key)

    def user(self, name: str) -> RemoteUser:
        if name not in self.users:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.users[name] = RemoteUser(self.peer.add_actor(name, key), key)
        return self.users[name]

    def serve_webfinger(self, user: RemoteUser) -> str:
        """Answer WebFinger for `user` on the peer; returns its handle `name@host`."""
        host = self.peer.base.removeprefix("http://")
        handle = f"{user.actor['preferredUsername']}@{host}"
        self.peer.put(
            f"/.well-known/webfinger?resource=acct:{handle}",
            {
                "subject": f"acct:{handle}",
                "links": [{"rel": "self", "type": AS2, "href": user.id}],
            },
            content_type="application/jrd+json",
        )
        return handle

    def article_url(self, slug: str = "hello-world") -> str:
        return f"{self.blog.base_url}/posts/{slug}"

    def new_id(self, kind: str = "activities") -> str:
        return self.peer.url(f"/{kind}/{next(_counter)}")

    def follow(self, **changes: Any) -> dict[str, Any]:
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": self.new_id(),
            "type": "Follow",
            "actor": self.actor["id"],
            "object": f"{self.blog.base_url}/users/blog",
        }
        activity.update(changes)
        return activity

    def note(self, by: RemoteUser, in_reply_to: str, content: str, **extra: Any) -> dict[str, Any]:
        note_id = self.new_id("statuses")
        return {
            "id": note_id,
            "type": "Note",
            "attributedTo": by.id,
            "inReplyTo": in_reply_to,
            "content": content,
            "published": "2026-11-29T10:00:00Z",
            "url": note_id,
            "to": [AS_PUBLIC],
            "cc": [f"{by.id}/followers", f"{self.blog.base_url}/users/blog"],
            **extra,
        }

    def wrap(self, kind: str, by: RemoteUser, obj: Any, **extra: Any) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams"],
            "id": self.new_id(),
            "type": kind,
            "actor": by.id,
            "object": obj,
            "to": [AS_PUBLIC],
            **extra,
        }

    def send(self, activity: dict[str, Any], by: RemoteUser | None = None) -> httpx.Response:
        user = by or self.alice
        return post_signed(self.inbox, activity, user.key, user.key_id)

    def page(self, slug: str = "hello-world", query: str = "") -> str:
        return httpx.get(f"{self.base}/posts/{slug}{query}").text

    def collection(self, slug: str, kind: str) -> dict[str, Any]:
        url = f"{self.base}/posts/{slug}/{kind}?page=1"
        document: dict[str, Any] = httpx.get(url, headers={"Accept": AS2}).json()
        return document

    def deliver(self) -> int:
        """Drain the delivery queue now (the blog's own worker is off in tests)."""
        return drain_deliveries(self.blog)

    def received(self, kind: str) -> list[dict[str, Any]]:
        """The activities of type `kind` the peer received, parsed."""
        found = [orjson.loads(r.body) for r in self.peer.inbox_posts() if r.body]
        return [a for a in found if isinstance(a, dict) and a.get("type") == kind]

    def note_document(self, slug: str = "hello-world") -> dict[str, Any]:
        document: dict[str, Any] = httpx.get(
            f"{self.base}/posts/{slug}", headers={"Accept": AS2}
        ).json()
        return document


@contextmanager
def running_world(
    root: Path, keyset: KeySet, key: rsa.RSAPrivateKey, *, article: bool = True, **settings: Any
) -> Iterator[World]:
    port = free_port()
    values: dict[str, Any] = {
        "allow_private_addresses": True,
        "delivery_worker": False,
        **settings,
    }
    blog = make_blog(root / "blog", keyset, domain=f"127.0.0.1:{port}", scheme="http", **values)
    if article:
        publish(blog, write_article(root / "src", "a.md", ARTICLE))
    with running_peer() as peer, serve(create_app(blog), port=port) as base:
        yield World(blog, base, peer, key, peer.add_actor("alice", key))
