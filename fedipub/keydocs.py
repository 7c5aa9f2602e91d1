"""Public keys as remote documents publish them: Mastodon's `publicKey` (PEM) and FEP-521a's
`assertionMethod` Multikeys, in actor documents or in standalone key documents.

Pure: what a key document *claims* (its `owner` or `controller`) is returned as a claim and
never believed here; `verify.py` confirms it against the owner's own document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from fedipub.errors import MalformedError
from fedipub.multikey import decode_ed25519_multikey

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
# Keys too small to trust; the cavage test vectors' 1024-bit key is only used in unit tests.
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class PublishedKey:
    key_id: str
    claimed_owner: str | None
    public_key: PublicKey


def strip_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def is_actor(document: dict[str, Any]) -> bool:
    kind = document.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    return bool(kinds & ACTOR_TYPES) and isinstance(document.get("inbox"), str)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def load_public_pem(pem: str) -> PublicKey:
    """An RSA (at least MIN_RSA_BITS) or Ed25519 public key from PEM; MalformedError otherwise."""
    try:
        public_key = load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, TypeError):
        raise MalformedError("not a PEM public key") from None
    if not isinstance(public_key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise MalformedError("unsupported key type")
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < MIN_RSA_BITS:
        raise MalformedError(f"RSA key shorter than {MIN_RSA_BITS} bits")
    return public_key


def public_key_pem(key: PublicKey) -> str:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _pem_key(entry: dict[str, Any]) -> PublishedKey | None:
    pem = entry.get("publicKeyPem")
    key_id = entry.get("id")
    if not isinstance(pem, str) or not isinstance(key_id, str):
        return None
    try:
        public_key = load_public_pem(pem)
    except MalformedError as exc:
        raise MalformedError(f"key {key_id}: {exc.reason}") from None
    owner = entry.get("owner") or entry.get("controller")
    return PublishedKey(key_id, owner if isinstance(owner, str) else None, public_key)


def _multikey(entry: dict[str, Any]) -> PublishedKey | None:
    value = entry.get("publicKeyMultibase")
    key_id = entry.get("id")
    if entry.get("type") != "Multikey" or not isinstance(value, str) or not isinstance(key_id, str):
        return None
    controller = entry.get("controller")
    return PublishedKey(
        key_id,
        controller if isinstance(controller, str) else None,
        decode_ed25519_multikey(value),
    )


def parse_published_keys(document: dict[str, Any]) -> tuple[PublishedKey, ...]:
    """Every key `document` publishes: its `publicKey` entries, its `assertionMethod`
    Multikeys, or itself when it is a key document."""
    found: list[PublishedKey] = []
    entries = [*_as_list(document.get("publicKey")), *_as_list(document.get("assertionMethod"))]
    if not entries and ("publicKeyPem" in document or "publicKeyMultibase" in document):
        entries = [document]
    for entry in entries:
        if not isinstance(entry, dict):
            continue  # a bare key id: the key itself lives in another document
        key = _pem_key(entry) or _multikey(entry)
        if key is not None:
            found.append(key)
    return tuple(found)


def find_key(document: dict[str, Any], key_id: str) -> PublishedKey | None:
    return next((k for k in parse_published_keys(document) if k.key_id == key_id), None)
