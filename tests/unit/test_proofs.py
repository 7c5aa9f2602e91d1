"""eddsa-jcs-2022 object integrity proofs against the W3C and FEP-8b32 published vectors."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fedipub import vocab
from fedipub.errors import MalformedError, SignatureError
from fedipub.multikey import b58decode, decode_ed25519_multikey
from fedipub.proofs import proof_verification_method, sign_object, verify_object_proof

FIXTURES = Path(__file__).parent.parent / "fixtures" / "proofs"
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)


@cache
def _vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / "vectors.json").read_text("utf-8"))
    return loaded


def vector(name: str) -> dict[str, Any]:
    """A fresh copy, so a test may change it."""
    return copy.deepcopy(_vectors()[name])


def public_key() -> Ed25519PublicKey:
    return decode_ed25519_multikey(_vectors()["key_pair"]["publicKeyMultibase"])


def private_key() -> Ed25519PrivateKey:
    # Multibase 'z' + base58btc(0x80 0x26 ed25519-priv multicodec + the 32-byte seed).
    decoded = b58decode(_vectors()["key_pair"]["privateKeyMultibase"][1:])
    assert decoded[:2] == b"\x80\x26"
    return Ed25519PrivateKey.from_private_bytes(decoded[2:])


def test_the_w3c_eddsa_jcs_2022_vector_verifies() -> None:
    w3c = vector("w3c_eddsa_jcs_2022")
    unsecured = {key: value for key, value in w3c["signed"].items() if key != "proof"}

    assert rfc8785.dumps(unsecured).decode() == w3c["canonical_document"]
    assert hashlib.sha256(rfc8785.dumps(unsecured)).hexdigest() == w3c["document_hash"]
    verify_object_proof(w3c["signed"], public_key())


def test_signing_the_fep_8b32_document_reproduces_its_proof_exactly() -> None:
    fep = vector("fep_8b32")

    signed = sign_object(fep["document"], private_key(), fep["verification_method"], CREATED)

    assert signed == fep["signed"]


def test_the_fep_8b32_vector_verifies() -> None:
    signed = vector("fep_8b32")["signed"]

    verify_object_proof(signed, public_key())
    assert proof_verification_method(signed) == "https://server.example/users/alice#ed25519-key"


def test_a_proof_made_before_proofs_carried_a_context_still_verifies() -> None:
    verify_object_proof(vector("fep_8b32_proof_without_context")["signed"], public_key())


def test_the_pre_2023_cryptosuite_name_is_refused() -> None:
    with pytest.raises(SignatureError, match="jcs-eddsa-2022"):
        verify_object_proof(vector("fep_8b32_jcs_eddsa_2022")["signed"], public_key())


def test_round_trip_adds_the_data_integrity_context() -> None:
    key = Ed25519PrivateKey.generate()
    note = {
        "@context": vocab.AS_CONTEXT,
        "id": "https://blog.example/articles/hello",
        "type": "Article",
        "content": "<p>Hello</p>",
    }

    signed = sign_object(note, key, "https://blog.example/actor#ed25519-key", CREATED)

    assert signed["@context"] == [vocab.AS_CONTEXT, vocab.DATA_INTEGRITY_V2_CONTEXT]
    assert signed["proof"]["@context"] == signed["@context"]
    assert signed["proof"]["created"] == "2023-02-24T23:36:38Z"
    assert signed["proof"]["proofValue"].startswith("z")
    verify_object_proof(signed, key.public_key())


def test_a_tampered_document_fails() -> None:
    signed = vector("fep_8b32")["signed"]
    signed["object"]["content"] = "Goodbye world"

    with pytest.raises(SignatureError, match="does not verify"):
        verify_object_proof(signed, public_key())


def test_tampered_proof_options_fail() -> None:
    signed = vector("fep_8b32")["signed"]
    signed["proof"]["created"] = "2024-02-24T23:36:38Z"

    with pytest.raises(SignatureError, match="does not verify"):
        verify_object_proof(signed, public_key())


def test_another_key_fails() -> None:
    with pytest.raises(SignatureError, match="does not verify"):
        verify_object_proof(vector("fep_8b32")["signed"], Ed25519PrivateKey.generate().public_key())


def test_contexts_appended_after_signing_are_allowed_but_not_replaced_ones() -> None:
    # vc-di-eddsa §3.3.2 step 4: the document's @context must begin with the proof's.
    appended = vector("fep_8b32")["signed"]
    appended["@context"].append({"extra": "https://example.org/extra"})
    verify_object_proof(appended, public_key())

    replaced = vector("fep_8b32")["signed"]
    replaced["@context"] = [vocab.AS_CONTEXT]
    with pytest.raises(SignatureError, match="@context"):
        verify_object_proof(replaced, public_key())


def test_a_linked_data_signature_beside_the_proof_is_ignored() -> None:
    # FEP-8b32: the LD signature is added after the proof and removed before verifying it.
    signed = vector("fep_8b32")["signed"]
    signed["signature"] = {"type": "RsaSignature2017", "signatureValue": "AAAA"}

    verify_object_proof(signed, public_key())
    with pytest.raises(ValueError, match="before the Linked Data signature"):
        sign_object(signed, private_key(), "https://server.example/users/alice#k", CREATED)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"proof": None}, "no integrity proof"),
        ({"proof": [{}, {}]}, "proof sets"),
        ({"type": "Ed25519Signature2020"}, "unsupported"),
        ({"proofPurpose": "authentication"}, "proofPurpose"),
        ({"proofValue": "u" + "A" * 86}, "base58btc"),
        ({"proofValue": "z" + "0" * 87}, "base58btc"),
        ({"proofValue": "z" + "1" * 200}, "base58btc"),
        ({"proofValue": "z3sXax"}, "Ed25519 signature"),
        ({"created": "yesterday"}, "xsd:dateTime"),
    ],
)
def test_unusable_proofs_are_signature_errors(change: dict[str, Any], reason: str) -> None:
    signed = vector("fep_8b32")["signed"]
    if "proof" in change:
        signed["proof"] = change["proof"]
    else:
        signed["proof"].update(change)

    with pytest.raises(SignatureError, match=reason):
        verify_object_proof(signed, public_key())


def test_a_document_without_proof_has_no_verification_method() -> None:
    assert proof_verification_method(vector("fep_8b32")["document"]) is None


def test_numbers_json_cannot_carry_exactly_are_malformed() -> None:
    signed = vector("fep_8b32")["signed"]
    signed["object"]["likes"] = 2**60  # beyond IEEE 754 doubles: no RFC 8785 form

    with pytest.raises(MalformedError, match="JCS"):
        verify_object_proof(signed, public_key())
