"""FEP-8b32 Object Integrity Proofs, cryptosuite eddsa-jcs-2022 (W3C vc-di-eddsa §3.3).

    proof      = type, cryptosuite, verificationMethod, proofPurpose, created, and the
                 document's "@context" (§3.3.1 step 2)
    hashData   = sha256(JCS(proof)) + sha256(JCS(document minus proof))     §3.3.3-3.3.5
    proofValue = "z" + base58btc(Ed25519 signature over the 64 bytes)       §3.3.6

JCS is RFC 8785. What is signed is the JSON itself, not an RDF graph, so a verified document
is read as the plain JSON received. Resolving `verificationMethod` to a key, and checking that
the key's controller owns the object (FEP-8b32 "Proof verification"), is the caller's job.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fedipub import jsonld, vocab
from fedipub.errors import MalformedError, SignatureError
from fedipub.multikey import b58decode, b58encode

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
# FEP-8b32: "The value of proofPurpose attribute MUST be assertionMethod."
PROOF_PURPOSE = "assertionMethod"
# A 64-byte signature is at most 88 base58 characters; the cap keeps hostile input from making
# the (quadratic) base58 decoder work hard.
_MAX_PROOF_VALUE = 90
_XSD_DATETIME = re.compile(r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")
_NOT_SIGNED = ("proof", "signature")
_DATA_INTEGRITY_CONTEXTS = (vocab.DATA_INTEGRITY_V1_CONTEXT, vocab.DATA_INTEGRITY_V2_CONTEXT)


def sign_object(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
) -> dict[str, Any]:
    """A copy of `document` with an eddsa-jcs-2022 `proof` by `verification_method`.

    The data integrity context is appended to `@context` unless present (Data Integrity 1.0
    §2.1 defines `proof` there); a `proof` already present is replaced.
    """
    if "signature" in document:
        # FEP-8b32 "Backward compatibility": the proof comes first, the LD signature after it.
        raise ValueError("add the integrity proof before the Linked Data signature")
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    unsecured["@context"] = _with_data_integrity(document.get("@context"))
    options = {
        "@context": unsecured["@context"],  # §3.3.1 step 2
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
        "created": jsonld.xsd_datetime(created),
    }
    signature = private_key.sign(_hash_data(options, unsecured))
    return {**unsecured, "proof": {**options, "proofValue": "z" + b58encode(signature)}}


def proof_verification_method(document: dict[str, Any]) -> str | None:
    """The `proof.verificationMethod` to resolve before verifying; None without a proof."""
    proof = document.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    return method if isinstance(method, str) else None


def verify_object_proof(document: dict[str, Any], public_key: Ed25519PublicKey) -> None:
    """Check `document`'s eddsa-jcs-2022 proof with `public_key` (vc-di-eddsa §3.3.2).

    Raises SignatureError when the proof is missing, of another kind, or does not verify, and
    MalformedError when the document has no JCS form (numbers JSON cannot carry exactly).
    Read the verified document as plain JSON: contexts appended after the proof's are allowed
    (§3.3.2 step 4) and unsigned, so JSON-LD processing of it could be steered by them.
    """
    proof = document.get("proof")
    if isinstance(proof, list):
        # FEP-8b32: "Objects SHOULD NOT contain more than one integrity proof."
        raise SignatureError("integrity proof sets (a list) are not supported")
    if not isinstance(proof, dict):
        raise SignatureError("no integrity proof")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise SignatureError(
            f"unsupported integrity proof {proof.get('type')!r}/{proof.get('cryptosuite')!r}"
        )
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise SignatureError(f"proofPurpose must be {PROOF_PURPOSE}")
    signature = _decode_proof_value(proof.get("proofValue"))
    _check_created(proof.get("created"))

    options = {key: value for key, value in proof.items() if key != "proofValue"}
    # FEP-8b32: a Linked Data signature next to the proof was added after it, so it goes.
    unsecured = {key: value for key, value in document.items() if key not in _NOT_SIGNED}
    if "@context" in options:
        # §3.3.2 step 4: the document's contexts must begin with the proof's, which are the
        # ones that were signed (contexts appended later are not).
        signed_contexts = _as_list(options["@context"])
        if _as_list(document.get("@context"))[: len(signed_contexts)] != signed_contexts:
            raise SignatureError("the document's @context does not begin with the proof's")
        unsecured["@context"] = options["@context"]
    try:
        public_key.verify(signature, _hash_data(options, unsecured))
    except InvalidSignature:
        raise SignatureError("integrity proof does not verify") from None


def _hash_data(proof_config: dict[str, Any], unsecured: dict[str, Any]) -> bytes:
    try:
        config_bytes = rfc8785.dumps(proof_config)
        document_bytes = rfc8785.dumps(unsecured)
    except rfc8785.CanonicalizationError as error:
        raise MalformedError(f"document has no JCS canonical form: {error}") from error
    return hashlib.sha256(config_bytes).digest() + hashlib.sha256(document_bytes).digest()


def _decode_proof_value(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith("z") or len(value) > _MAX_PROOF_VALUE:
        raise SignatureError("proofValue must be base58btc multibase ('z…')")
    try:
        decoded = b58decode(value[1:])
    except MalformedError:
        raise SignatureError("proofValue is not base58btc") from None
    if len(decoded) != 64:
        raise SignatureError("proofValue is not an Ed25519 signature")
    return decoded


def _check_created(created: object) -> None:
    # §3.3.5 step 3: a `created` that is not an xsd:dateTime is an error.
    if created is not None and not (isinstance(created, str) and _XSD_DATETIME.fullmatch(created)):
        raise SignatureError("proof created is not an xsd:dateTime")


def _with_data_integrity(context: Any) -> list[Any]:
    contexts = _as_list(context)
    if any(url in contexts for url in _DATA_INTEGRITY_CONTEXTS):
        return contexts
    return [*contexts, vocab.DATA_INTEGRITY_V2_CONTEXT]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
