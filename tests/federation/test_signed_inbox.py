"""The inbox accepts only requests signed by the activity's actor: real peers on loopback,
real keys, real signatures, and every way a signature check is known to fail."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.keys import public_pem
from fedipub.signatures import SignatureFormat
from tests.federation.worlds import World
from tests.peers import Peer, post_signed, running_peer, signed_headers

AS2_TYPE = "application/activity+json"


def test_a_mastodon_style_signed_post_is_accepted(world: World) -> None:
    response = post_signed(world.inbox, world.follow(), world.key, world.key_id)
    assert response.status_code == 202, response.text
    # The key was fetched once, from the actor document, and is cached afterwards.
    assert post_signed(world.inbox, world.follow(), world.key, world.key_id).status_code == 202
    assert world.peer.fetches_of("/users/alice") == 1
    fetch = next(r for r in world.peer.received if r.path == "/users/alice")
    # Fetched with a signature by our instance actor, for authorized-fetch peers.
    assert 'keyId="' + world.blog.base_url + '/actor#main-key"' in fetch.headers["signature"]


def test_rfc9421_signed_post_and_the_shared_inbox(world: World) -> None:
    response = post_signed(
        f"{world.base}/inbox",
        world.follow(),
        world.key,
        world.key_id,
        signature_format=SignatureFormat.RFC9421,
    )
    assert response.status_code == 202, response.text


def _refused(response: httpx.Response, status: int, reason: str) -> None:
    assert response.status_code == status, response.text
    assert reason.lower() in response.json()["error"].lower()


def test_unsigned_is_refused(world: World) -> None:
    response = httpx.post(world.inbox, content=orjson.dumps(world.follow()))
    _refused(response, 401, "not signed")


def test_a_tampered_body_is_refused(world: World) -> None:
    body = orjson.dumps(world.follow())
    headers = signed_headers("POST", world.inbox, body, world.key, world.key_id)
    forged = body.replace(b"Follow", b"Block")
    _refused(httpx.post(world.inbox, content=forged, headers=headers), 401, "digest")


def test_a_digest_not_covered_is_refused(world: World) -> None:
    body = orjson.dumps(world.follow())
    headers = signed_headers("POST", world.inbox, None, world.key, world.key_id)
    _refused(httpx.post(world.inbox, content=body, headers=headers), 401, "not covered")


def test_host_not_covered_and_replay_to_another_host_are_refused(world: World) -> None:
    body = orjson.dumps(world.follow())
    elsewhere = "http://other.example/users/blog/inbox"
    headers = signed_headers("POST", elsewhere, body, world.key, world.key_id)
    _refused(httpx.post(world.inbox, content=body, headers=headers), 401, "host")


def test_a_stale_date_is_refused(world: World) -> None:
    body = orjson.dumps(world.follow())
    headers = signed_headers(
        "POST", world.inbox, body, world.key, world.key_id, now=time.time() - 7200
    )
    _refused(httpx.post(world.inbox, content=body, headers=headers), 401, "window")


def test_signer_must_be_the_actor(world: World) -> None:
    mallory_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    mallory = world.peer.add_actor("mallory", mallory_key)
    activity = world.follow()  # claims to be alice's
    response = post_signed(world.inbox, activity, mallory_key, mallory["publicKey"]["id"])
    _refused(response, 401, "not signed by the actor")


def test_a_key_whose_owner_does_not_list_it_is_refused(world: World) -> None:
    # A standalone key document claims alice as its owner; alice's document does not list it.
    rogue = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = world.peer.url("/keys/rogue")
    world.peer.put(
        "/keys/rogue",
        {
            "id": key_id,
            "type": "CryptographicKey",
            "owner": world.actor["id"],
            "publicKeyPem": public_pem(rogue.public_key()),
        },
    )
    _refused(post_signed(world.inbox, world.follow(), rogue, key_id), 401, "does not list")


def test_a_key_document_listed_by_its_owner_is_accepted(world: World) -> None:
    key_id = world.peer.url("/keys/alice")
    world.actor["publicKey"]["id"] = key_id
    world.peer.put("/users/alice", world.actor)
    world.peer.put(
        "/keys/alice",
        {
            "id": key_id,
            "type": "CryptographicKey",
            "owner": world.actor["id"],
            "publicKeyPem": public_pem(world.key.public_key()),
        },
    )
    assert post_signed(world.inbox, world.follow(), world.key, key_id).status_code == 202


def test_a_document_whose_id_is_not_its_url_is_refused(world: World) -> None:
    # Served at /users/eve, the document claims to be alice (Mastodon CVE-2024-23832).
    world.peer.put("/users/eve", world.actor)
    key_id = world.peer.url("/users/eve#main-key")
    _refused(post_signed(world.inbox, world.follow(), world.key, key_id), 401, "not the URL")


def test_a_redirect_to_an_actor_elsewhere_is_refused(world: World) -> None:
    # GHSA-8863-8468-7hq7: a key URL on one server redirecting to an actor on another.
    with running_peer() as elsewhere:
        elsewhere.add_actor("alice", world.key)
        world.peer.redirect("/users/bob", elsewhere.url("/users/alice"))
        key_id = world.peer.url("/users/bob#main-key")
        activity = world.follow(actor=world.peer.url("/users/bob"))
        response = post_signed(world.inbox, activity, world.key, key_id)
    _refused(response, 401, "not the URL")


def test_a_redirect_to_another_actor_on_the_same_server_proves_nothing(world: World) -> None:
    world.peer.redirect("/users/bob", world.actor["id"])
    key_id = world.peer.url("/users/bob#main-key")
    activity = world.follow(actor=world.peer.url("/users/bob"))
    _refused(post_signed(world.inbox, activity, world.key, key_id), 401, "does not list")


def _serve_webfinger(peer: Peer, user: str, href: str) -> str:
    host = peer.base.removeprefix("http://")
    acct = f"acct:{user}@{host}"
    peer.put(
        f"/.well-known/webfinger?resource={acct}",
        {"subject": acct, "links": [{"rel": "self", "type": AS2_TYPE, "href": href}]},
        content_type="application/jrd+json",
    )
    return acct


def test_an_acct_key_id_is_resolved_through_webfinger(world: World) -> None:
    acct = _serve_webfinger(world.peer, "alice", world.actor["id"])
    assert post_signed(world.inbox, world.follow(), world.key, acct).status_code == 202


def test_an_acct_key_id_must_name_an_actor_on_its_own_host(world: World) -> None:
    with running_peer() as elsewhere:
        elsewhere.add_actor("alice", world.key)
        acct = _serve_webfinger(world.peer, "alice", elsewhere.url("/users/alice"))
        activity = world.follow(actor=elsewhere.url("/users/alice"))
        response = post_signed(world.inbox, activity, world.key, acct)
    _refused(response, 401, "another host")


def test_oversized_and_malformed_bodies(world: World) -> None:
    big = b"{" + b" " * 1_000_001 + b"}"
    response = httpx.post(world.inbox, content=big)
    assert response.status_code == 413
    response = httpx.post(world.inbox, content=b"{not json")
    assert response.status_code == 400
    response = httpx.post(world.inbox, content=b"[1, 2]")
    assert response.status_code == 400


def test_a_rotated_key_is_refetched_once_per_cooldown(world: World) -> None:
    assert post_signed(world.inbox, world.follow(), world.key, world.key_id).status_code == 202
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    world.peer.add_actor("alice", new_key)
    assert post_signed(world.inbox, world.follow(), new_key, world.key_id).status_code == 202
    assert world.peer.fetches_of("/users/alice") == 2
    # A forger with a bad key makes us refetch at most once per cool-down.
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for _ in range(3):
        response = post_signed(world.inbox, world.follow(), forger, world.key_id)
        assert response.status_code == 401
    assert world.peer.fetches_of("/users/alice") <= 3


class Canary:
    """A listener that counts the connections it accepts: the guard must make none."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join()
        self.sock.close()


@pytest.mark.parametrize(
    "key_url",
    [
        "https://127.0.0.1:{port}/users/x#main-key",
        "https://[::1]:{port}/users/x#main-key",
        "https://169.254.169.254/latest/meta-data#main-key",
        "https://localhost:{port}/users/x#main-key",
        "https://0.0.0.0:{port}/users/x#main-key",
        "http://127.0.0.1:{port}/users/x#main-key",
    ],
)
def test_a_key_id_on_a_private_address_is_never_fetched(guarded: World, key_url: str) -> None:
    canary = Canary()
    try:
        key_id = key_url.format(port=canary.port)
        activity = guarded.follow(actor=key_id.split("#")[0])
        response = post_signed(guarded.inbox, activity, guarded.key, key_id)
        # Refused before any connection: the actor URL itself (an IPv6 literal is never a
        # valid actor, 400), or the key fetch by the guard (401).
        assert response.status_code in (400, 401)
    finally:
        canary.close()
    assert canary.accepted == 0
