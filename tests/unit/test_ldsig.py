"""RsaSignature2017, checked against a real Mastodon-signed Create{Note} (activitypub.academy)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import socket
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from fedipub import jsonld, vocab
from fedipub.errors import MalformedError, SignatureError
from fedipub.keys import KeySet
from fedipub.ldsig import (
    ld_signature_creator,
    ld_signing_string,
    sign_ld_signature,
    verify_ld_signature,
)
from fedipub.proofs import sign_object, verify_object_proof

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ld-signatures"
CREATOR = "https://activitypub.academy/users/brauca_darradiul#main-key"
NOW = datetime(2024, 9, 12, 16, 50, 46, tzinfo=UTC)


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text("utf-8"))
    return document


def signed_create() -> dict[str, Any]:
    return _load("mastodon-create-note-rsasignature2017.json")


@cache
def vectors() -> dict[str, Any]:
    return _load("vectors.json")


@cache
def signer_key() -> rsa.RSAPublicKey:
    key = load_pem_public_key(
        _load("mastodon-actor-brauca_darradiul.json")["publicKey"]["publicKeyPem"].encode()
    )
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def test_the_mastodon_vector_canonicalizes_as_published() -> None:
    document = signed_create()
    expected = vectors()["expected"]
    options = {
        "@context": vocab.IDENTITY_CONTEXT,
        "creator": document["signature"]["creator"],
        "created": document["signature"]["created"],
    }
    unsigned = {key: value for key, value in document.items() if key != "signature"}

    assert jsonld.normalize(options) == expected["options_nquads"]
    assert jsonld.normalize(unsigned) == expected["document_nquads"]
    options_hash = hashlib.sha256(expected["options_nquads"].encode()).hexdigest()
    document_hash = hashlib.sha256(expected["document_nquads"].encode()).hexdigest()
    assert (options_hash, document_hash) == (expected["options_hash"], expected["document_hash"])
    assert ld_signing_string(document) == expected["to_be_signed"]


def test_the_mastodon_signature_verifies_and_yields_the_signed_graph() -> None:
    document = signed_create()

    verified = verify_ld_signature(document, signer_key())

    assert ld_signature_creator(document) == CREATOR
    assert verified["@context"] == vocab.AS_CONTEXT
    assert "signature" not in verified
    assert verified["type"] == "Create"
    assert verified["actor"] == "https://activitypub.academy/users/brauca_darradiul"
    assert verified["object"]["content"] == "<p>Test</p>"
    assert verified["object"]["contentMap"] == {"en": "<p>Test</p>"}
    # Extension terms from the document's inline context keep their full meaning.
    assert verified["object"]["as:sensitive"] is False
    assert verified["object"]["http://ostatus.org#atomUri"] == verified["object"]["id"]


def test_a_tampered_copy_fails() -> None:
    document = signed_create()
    document["object"]["content"] = "<p>Tampered</p>"  # vectors.json "negative_case"

    with pytest.raises(SignatureError):
        verify_ld_signature(document, signer_key())


def test_another_key_fails(keyset: KeySet) -> None:
    with pytest.raises(SignatureError):
        verify_ld_signature(signed_create(), keyset.blog_rsa.public_key())


def test_terms_outside_the_context_are_unsigned_and_dropped() -> None:
    # CVE-2022-24307: undefined terms do not reach the signed N-Quads, so the signature still
    # verifies with them added; reading the JSON as received would act on unsigned data.
    document = signed_create()
    document["object"]["quoteUrl"] = "https://attacker.example/forged"
    document["directMessage"] = True

    verified = verify_ld_signature(document, signer_key())

    assert "quoteUrl" not in verified["object"]
    assert "directMessage" not in verified
    assert verified == verify_ld_signature(signed_create(), signer_key())


def test_surface_syntax_rdf_leaves_out_is_dropped(keyset: KeySet) -> None:
    note = {
        "@context": vocab.AS_CONTEXT,
        "id": "https://blog.example/notes/1",
        "type": ["Note", "Emoji"],
        "content": "signed",
    }
    signed = sign_ld_signature(note, keyset.blog_rsa, "https://blog.example/actor#main-key", NOW)
    # None of these changes the canonical N-Quads, so the signature still holds: @direction and
    # @index are not RDF, an IRI with a space names nothing, and an undefined type is a blank
    # node whose name canonicalization replaces.
    signed["content"] = {"@value": "signed", "@direction": "rtl", "@index": "unsigned"}
    signed["inReplyTo"] = "https://attacker.example/not an iri"
    signed["type"] = ["Note", "Hashtag"]

    verified = verify_ld_signature(signed, keyset.blog_rsa.public_key())

    assert verified == {
        "@context": vocab.AS_CONTEXT,
        "id": "https://blog.example/notes/1",
        "type": "Note",
        "content": "signed",
    }


def _reshaped(how: str) -> dict[str, Any]:
    """The signed Create, reshaped so that its Note is the top-level object: same N-Quads."""
    document = signed_create()
    note = document.pop("object")
    signature = document.pop("signature")
    context = document.pop("@context")
    create_pointing_at_note = {**document, "object": note["id"]}
    if how == "@reverse":
        return {
            "@context": context,
            **note,
            "@reverse": {"object": document},
            "signature": signature,
        }
    if how == "reverse term":  # the inline context is not hashed; only the N-Quads are
        return {
            "@context": [*context, {"objectOf": {"@reverse": "as:object"}}],
            **note,
            "objectOf": document,
            "signature": signature,
        }
    if how == "@included":
        return {
            "@context": context,
            **note,
            "@included": [create_pointing_at_note],
            "signature": signature,
        }
    return {"@context": context, "@graph": [create_pointing_at_note, note], "signature": signature}


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("@reverse", "@reverse is not accepted"),
        ("reverse term", "@reverse is not accepted"),
        ("@included", "@included is not accepted"),
        ("@graph", "not a single object"),
    ],
)
def test_a_signed_graph_reshaped_around_another_root_is_refused(how: str, reason: str) -> None:
    # CVE-2026-46349 / Fedify GHSA-9rfg-v8g9-9367: JSON-LD can restate the signed graph with
    # the embedded object on top; it hashes the same, and would be processed as that object.
    reshaped = _reshaped(how)
    assert ld_signing_string(reshaped) == ld_signing_string(signed_create())

    with pytest.raises(SignatureError, match=reason):
        verify_ld_signature(reshaped, signer_key())


def test_an_unknown_remote_context_is_refused_without_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[object] = []

    def refuse(*args: object) -> None:
        attempts.append(args)
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    document = signed_create()
    document["@context"].append("https://attacker.example/context.jsonld")

    with pytest.raises(MalformedError, match=re.escape("attacker.example")):
        verify_ld_signature(document, signer_key())
    assert attempts == []


def test_sign_then_verify_round_trip(keyset: KeySet) -> None:
    activity = copy.deepcopy(signed_create())
    del activity["signature"]
    creator = "https://blog.example/actor#main-key"

    signed = sign_ld_signature(activity, keyset.blog_rsa, creator, NOW)

    assert signed["signature"]["type"] == "RsaSignature2017"
    assert signed["signature"]["created"] == "2024-09-12T16:50:46Z"
    assert ld_signature_creator(signed) == creator
    assert verify_ld_signature(signed, keyset.blog_rsa.public_key())["id"] == activity["id"]
    assert activity == {key: value for key, value in signed.items() if key != "signature"}


def test_an_integrity_proof_under_the_signature_is_accepted_and_left_out(
    keyset: KeySet,
) -> None:
    # FEP-8b32 "Backward compatibility": the proof first, then the LD signature over both.
    ed25519_key = keyset.blog_ed25519
    note = {"@context": vocab.AS_CONTEXT, "id": "https://blog.example/n/1", "type": "Note"}
    proved = sign_object(note, ed25519_key, "https://blog.example/actor#ed25519-key", NOW)
    signed = sign_ld_signature(proved, keyset.blog_rsa, "https://blog.example/actor#main-key", NOW)

    verified = verify_ld_signature(signed, keyset.blog_rsa.public_key())

    assert verified == {"@context": vocab.AS_CONTEXT, **note}
    verify_object_proof(signed, ed25519_key.public_key())


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "not a block",
        {"type": "Ed25519Signature2018", "creator": CREATOR, "signatureValue": "AAAA"},
        {"type": "RsaSignature2017", "creator": CREATOR},
        {"type": "RsaSignature2017", "creator": CREATOR, "signatureValue": "not base64!"},
    ],
    ids=["missing", "not-an-object", "other-type", "no-value", "not-base64"],
)
def test_unusable_signature_blocks_are_signature_errors(signature: object) -> None:
    document = signed_create()
    document["signature"] = signature

    with pytest.raises(SignatureError):
        verify_ld_signature(document, signer_key())


def test_an_unsigned_document_has_no_creator() -> None:
    document = signed_create()
    del document["signature"]

    assert ld_signature_creator(document) is None
    with pytest.raises(SignatureError):
        ld_signing_string(document)
