"""Activities delivered by someone other than their actor (Mastodon forwards replies to a
thread's participants) are believed only with the actor's own proof, LD signature, or the
object fetched from its origin; FEP-8b32 proofs are checked whenever present."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from fedipub.ldsig import sign_ld_signature
from fedipub.multikey import encode_ed25519_multikey
from fedipub.proofs import sign_object
from tests.federation.worlds import World

NOW = datetime.now(UTC).replace(microsecond=0)


def _with_proof_key(world: World) -> ed25519.Ed25519PrivateKey:
    key = ed25519.Ed25519PrivateKey.generate()
    world.actor["assertionMethod"] = [
        {
            "id": f"{world.alice.id}#ed25519-key",
            "type": "Multikey",
            "controller": world.alice.id,
            "publicKeyMultibase": encode_ed25519_multikey(key.public_key()),
        }
    ]
    world.peer.put("/users/alice", world.actor)
    return key


def _reply(world: World, text: str) -> dict[str, Any]:
    note = world.note(world.alice, world.article_url(), f"<p>{text}</p>")
    return world.wrap("Create", world.alice, note)


def test_a_valid_proof_is_accepted_and_a_tampered_one_refused(world: World) -> None:
    key = _with_proof_key(world)
    signed = sign_object(_reply(world, "Proven"), key, f"{world.alice.id}#ed25519-key", NOW)
    assert world.send(signed).status_code == 202
    assert "Proven" in world.page()
    tampered = sign_object(_reply(world, "Honest"), key, f"{world.alice.id}#ed25519-key", NOW)
    tampered["object"]["content"] = "<p>Tampered</p>"
    assert world.send(tampered).status_code == 401
    assert "Tampered" not in world.page()


def test_a_forwarded_reply_with_the_authors_proof_is_accepted(world: World) -> None:
    key = _with_proof_key(world)
    bob = world.user("bob")
    signed = sign_object(
        _reply(world, "Forwarded with proof"), key, f"{world.alice.id}#ed25519-key", NOW
    )
    assert world.send(signed, by=bob).status_code == 202
    assert "Forwarded with proof" in world.page()


def test_a_forwarded_reply_with_the_authors_ld_signature_is_accepted(world: World) -> None:
    bob = world.user("bob")
    signed = sign_ld_signature(
        _reply(world, "Forwarded with LD"), world.key, world.alice.key_id, NOW
    )
    assert world.send(signed, by=bob).status_code == 202
    assert "Forwarded with LD" in world.page()
    forged = copy.deepcopy(signed)
    forged["id"] = world.new_id()
    forged["object"]["content"] = "<p>Forged in transit</p>"
    assert world.send(forged, by=bob).status_code == 401
    assert "Forged in transit" not in world.page()


def test_a_forwarded_reply_is_fetched_from_its_origin(world: World) -> None:
    bob = world.user("bob")
    create = _reply(world, "As served by its origin")
    note = create["object"]
    world.peer.put(note["id"].removeprefix(world.peer.base), note)
    # What bob forwards claims other words; what counts is what alice's server serves.
    forwarded = copy.deepcopy(create)
    forwarded["object"]["content"] = "<p>Words put in alice's mouth</p>"
    assert world.send(forwarded, by=bob).status_code == 202
    page = world.page()
    assert "As served by its origin" in page
    assert "Words put in alice" not in page


def test_a_forwarded_like_without_proof_is_refused(world: World) -> None:
    bob = world.user("bob")
    like = world.wrap("Like", world.alice, world.article_url())
    assert world.send(like, by=bob).status_code == 401
    assert world.note_document()["likes"]["totalItems"] == 0
