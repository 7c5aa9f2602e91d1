"""Every real activity captured from 18 kinds of servers, addressed to our article and
replayed against a running blog: each is handled, none gets a 5xx.

The captured ids are rewritten onto a loopback peer (each original host becomes a path prefix
there, so ids keep their relative origins), the actors are served by the peer with a test key,
and replies, likes and boosts are pointed at our article."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.keys import KeySet, public_pem
from tests.blogs import FIXTURES
from tests.federation.worlds import World, running_world
from tests.peers import post_signed

ACTIVITY_TYPES = {
    "Create", "Update", "Delete", "Follow", "Undo", "Like", "Announce", "EmojiReact",
    "Move", "Flag", "Accept", "Reject", "Block", "Add", "Remove", "Dislike",
}  # fmt: skip


def _payloads() -> list[Path]:
    found = []
    for path in sorted((FIXTURES / "activities").rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if (
            isinstance(document, dict)
            and document.get("type") in ACTIVITY_TYPES
            and document.get("actor")
        ):
            found.append(path)
    return found


def _rewrite(value: Any, base: str) -> Any:
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        if not parts.hostname:
            return value
        rest = value.split(parts.netloc, 1)[1]
        return f"{base}/{parts.hostname}{rest}"
    if isinstance(value, list):
        return [_rewrite(item, base) for item in value]
    if isinstance(value, dict):
        return {key: _rewrite(item, base) for key, item in value.items()}
    return value


def _actor_id(document: dict[str, Any]) -> str:
    actor = document["actor"]
    if isinstance(actor, list):
        actor = actor[0]
    return str(actor["id"] if isinstance(actor, dict) else actor)


def _point_at_us(document: dict[str, Any], world: World) -> dict[str, Any]:
    article = world.article_url()
    kind = document["type"]
    obj = document.get("object")
    if kind in ("Like", "Announce", "EmojiReact", "Dislike"):
        document["object"] = article
    elif kind == "Follow":
        document["object"] = f"{world.blog.base_url}/users/blog"
    elif kind in ("Create", "Update") and isinstance(obj, dict) and "inReplyTo" in obj:
        obj["inReplyTo"] = article
    document.pop("signature", None)  # the captured LD signatures cannot survive the rewrite
    return document


@pytest.fixture(scope="module")
def replay_world(
    tmp_path_factory: pytest.TempPathFactory, keyset: KeySet, peer_key: rsa.RSAPrivateKey
) -> Any:
    with running_world(tmp_path_factory.mktemp("replay"), keyset, peer_key) as world:
        yield world


@pytest.mark.parametrize("path", _payloads(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_real_payload_is_handled_without_a_server_error(
    path: Path, replay_world: World, peer_key: rsa.RSAPrivateKey
) -> None:
    world = replay_world
    document = _rewrite(json.loads(path.read_text(encoding="utf-8")), world.peer.base)
    document = _point_at_us(document, world)
    actor_id = _actor_id(document)
    actor_path = actor_id[len(world.peer.base) :]
    if actor_path not in world.peer.documents:
        world.peer.put(
            actor_path,
            {
                "@context": [
                    "https://www.w3.org/ns/activitystreams",
                    "https://w3id.org/security/v1",
                ],
                "id": actor_id,
                "type": "Person",
                "preferredUsername": actor_path.rstrip("/").rsplit("/", 1)[-1][:30] or "someone",
                "inbox": f"{actor_id}/inbox",
                "publicKey": {
                    "id": f"{actor_id}#main-key",
                    "owner": actor_id,
                    "publicKeyPem": public_pem(peer_key.public_key()),
                },
            },
        )
    response = post_signed(world.inbox, document, peer_key, f"{actor_id}#main-key")
    assert response.status_code < 500, response.text
    assert response.status_code in (202, 400, 401, 403, 404), response.text
