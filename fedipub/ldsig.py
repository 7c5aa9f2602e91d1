"""RsaSignature2017: the Linked Data signatures Mastodon puts on the activities it forwards.

The scheme is Mastodon's (app/lib/activitypub/linked_data_signature.rb), from the withdrawn
LD Signatures 1.0 draft:

    options   = the `signature` block minus type, id and signatureValue,
                with "@context": "https://w3id.org/identity/v1"
    document  = the activity minus `signature`
    signed    = hex(sha256(URDNA2015(options))) + hex(sha256(URDNA2015(document)))
    signatureValue = base64(RSASSA-PKCS1-v1_5 / SHA-256 over those 128 ASCII characters)

What is signed is an RDF dataset, not the JSON that carries it, and JSON-LD can carry one
dataset in many shapes. So after verifying we hand back one tree of signed statements only,
compacted against the ActivityStreams context, and callers read that, never the JSON received
(Mastodon CVE-2022-24307 and CVE-2026-46349, Fedify GHSA-9rfg-v8g9-9367). Looking up the
`creator` key, and checking that its owner is the activity's actor, is the caller's job.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from fedipub import jsonld, vocab
from fedipub.errors import SignatureError

SIGNATURE_TYPE = "RsaSignature2017"
# Left out of the signed options by Mastodon (`without('type', 'id', 'signatureValue')`).
_UNSIGNED_OPTIONS = frozenset({"type", "id", "signatureValue"})
# Keywords that restate a signed graph in another shape: @reverse flips an edge, @graph and
# @included lift nodes out of the tree. With them an attacker can present the object of a
# signed Undo{Announce} as the activity, under the same signature (CVE-2026-46349).
_RESHAPING_KEYWORDS = ("@graph", "@included", "@reverse")
# FEP-8b32 adds an integrity proof before the LD signature, and Data Integrity makes `proof` a
# @graph container. It is left out of the result: proofs.py checks it on the JSON as received.
_DATA_INTEGRITY_PROOF = "https://w3id.org/security#proof"
# pyld's test for an absolute IRI (jsonld._is_absolute_iri), without its blank node labels.
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:\S*$")
_VALUE_KEYS = ("@value", "@type", "@language")


def ld_signature_creator(document: dict[str, Any]) -> str | None:
    """The key id in `signature.creator`, the key to look up before verifying; None if unsigned."""
    signature = document.get("signature")
    if not isinstance(signature, dict) or signature.get("type") != SIGNATURE_TYPE:
        return None
    creator = signature.get("creator")
    return creator if isinstance(creator, str) else None


def ld_signing_string(document: dict[str, Any]) -> str:
    """The 128 hex characters an RsaSignature2017 on `document` signs (options from `signature`).

    Raises SignatureError without a signature block, MalformedError when the JSON-LD cannot be
    canonicalized (for one, an `@context` that is not bundled).
    """
    signature = document.get("signature")
    if not isinstance(signature, dict):
        raise SignatureError("no Linked Data signature")
    options = {key: value for key, value in signature.items() if key not in _UNSIGNED_OPTIONS}
    options["@context"] = vocab.IDENTITY_CONTEXT
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    return _hex_sha256(jsonld.normalize(options)) + _hex_sha256(jsonld.normalize(unsigned))


def verify_ld_signature(document: dict[str, Any], public_key: RSAPublicKey) -> dict[str, Any]:
    """Check `document`'s RsaSignature2017 with `public_key`; return what it signs, compacted.

    The result is one object holding only signed statements, in ActivityStreams terms: terms
    the document's context does not define are gone, extension terms appear as full IRIs or
    `as:` names (`"as:sensitive"`; the public collection in `to`/`cc` is `"as:Public"`), and
    single-element arrays are collapsed. The `signature` block is not part of it. Array order
    outside `@list` containers (such as `orderedItems`) is not signed.
    """
    signature = document.get("signature")
    if not isinstance(signature, dict) or signature.get("type") != SIGNATURE_TYPE:
        raise SignatureError(f"no {SIGNATURE_TYPE} signature")
    encoded = signature.get("signatureValue")
    if not isinstance(encoded, str):
        raise SignatureError("signatureValue missing")
    try:
        signature_bytes = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise SignatureError("signatureValue is not base64") from None
    signed = ld_signing_string(document).encode("ascii")
    try:
        public_key.verify(signature_bytes, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureError("Linked Data signature does not verify") from None
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    return jsonld.compact(_signed_tree(jsonld.expand(unsigned)), vocab.AS_CONTEXT)


def sign_ld_signature(
    document: dict[str, Any], private_key: RSAPrivateKey, creator: str, created: datetime
) -> dict[str, Any]:
    """A copy of `document` with an RsaSignature2017 `signature` by `creator` (a key id)."""
    options = {"type": SIGNATURE_TYPE, "creator": creator, "created": jsonld.xsd_datetime(created)}
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    signed = ld_signing_string({**unsigned, "signature": options}).encode("ascii")
    signature_value = private_key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
    encoded = base64.b64encode(signature_value).decode("ascii")
    return {**unsigned, "signature": {**options, "signatureValue": encoded}}


def _hex_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _signed_tree(expanded: list[dict[str, Any]]) -> dict[str, Any]:
    """The expanded document as one tree of the statements its N-Quads hold, and nothing else.

    Deserializing JSON-LD to RDF (JSON-LD 1.1 API §8.1, as pyld does it) skips properties named
    by blank nodes (any term the context does not define: the ActivityStreams context maps
    those to `_:term` through `"@vocab": "_:"`), nodes whose `@id` is not an IRI, and keywords
    such as `@index` and `@direction`; canonicalization relabels blank nodes, so the name of an
    undefined type such as `_:Emoji` is not signed either. Compaction would turn all of these
    back into plausible plain keys; here they go (CVE-2022-24307). And the tree must be one
    object without `_RESHAPING_KEYWORDS`, so the signer's root stays the root (CVE-2026-46349).
    """
    root = _signed_node(expanded[0]) if len(expanded) == 1 else None
    if root is None:
        raise SignatureError("the signed document is not a single object")
    return root


def _signed_node(node: dict[str, Any]) -> dict[str, Any] | None:
    for keyword in _RESHAPING_KEYWORDS:
        if keyword in node:
            raise SignatureError(f"{keyword} is not accepted in a signed document")
    node_id = node.get("@id")
    if node_id is not None and not (_is_iri(node_id) or node_id.startswith("_:")):
        return None  # not an IRI (it has a space, say): RDF holds nothing about this node
    kept: dict[str, Any] = {}
    for key, values in node.items():
        if key == "@id":
            kept[key] = values
        elif key == "@type" and (types := [item for item in values if _is_iri(item)]):
            kept[key] = types
        elif key != _DATA_INTEGRITY_PROOF and _is_iri(key) and (signed := _signed_values(values)):
            kept[key] = signed
    return kept


def _signed_values(values: list[Any]) -> list[Any]:
    kept = []
    for value in values:
        if "@value" in value:
            kept.append({key: value[key] for key in _VALUE_KEYS if key in value})
        elif "@list" in value:
            kept.append({"@list": _signed_values(value["@list"])})
        elif (node := _signed_node(value)) is not None:
            kept.append(node)
    return kept


def _is_iri(value: str) -> bool:
    """An absolute IRI; blank node labels (`_:b0`) look like one but name nothing."""
    return not value.startswith("_:") and _ABSOLUTE_IRI.match(value) is not None
