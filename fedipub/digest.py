"""Body digests: the legacy `Digest` header (RFC 3230, what Mastodon signs) and RFC 9530
`Content-Digest` (what RFC 9421 signers cover).

Digests are always recomputed over the raw body bytes as received, never over a re-encoded
document. Supported algorithms: sha-256 and sha-512; RFC 9530 §5 deprecates the others (md5,
sha, unixsum, …) for integrity, so they are ignored, and a header offering nothing else is
refused.

Errors: a value that cannot be parsed raises `MalformedError` (400, bad header syntax); a
digest that does not match the body, or a header without a supported algorithm, raises
`SignatureError` (401): the digest is what binds a signature to the body.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from collections.abc import Mapping

from fedipub.errors import MalformedError, SignatureError
from fedipub.structured_fields import Item, parse_dictionary

# RFC 9530 algorithm keys → hashlib names.
_HASHES = {"sha-256": "sha256", "sha-512": "sha512"}


# A fan-out signs one body for each of thousands of inboxes: hashing it once is enough.
@functools.lru_cache(maxsize=8)
def build_digest_header(body: bytes) -> str:
    """`SHA-256=<base64>`, spelled as Mastodon sends it."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


@functools.lru_cache(maxsize=8)
def build_content_digest(body: bytes, algorithm: str = "sha-256") -> str:
    """An RFC 9530 `Content-Digest` value with one member, e.g. `sha-256=:<base64>:`."""
    if algorithm not in _HASHES:
        raise ValueError(f"unsupported digest algorithm {algorithm}")
    encoded = base64.b64encode(hashlib.new(_HASHES[algorithm], body).digest()).decode("ascii")
    return f"{algorithm}=:{encoded}:"


def _check(field: str, digests: Mapping[str, bytes], body: bytes) -> None:
    if not digests:
        raise SignatureError(f"{field} has no supported algorithm (sha-256, sha-512)")
    for name, expected in digests.items():
        # Not secret, but constant-time comparison costs nothing.
        if not hmac.compare_digest(hashlib.new(_HASHES[name], body).digest(), expected):
            raise SignatureError(f"{field} {name} does not match the body")


def verify_digest_header(value: str, body: bytes) -> None:
    """Check a legacy `Digest` header: comma-separated `algorithm=base64` members (RFC 3230
    §4.3.2), algorithm names case-insensitive; every supported member must match `body`."""
    digests: dict[str, bytes] = {}
    seen: set[str] = set()
    for member in value.split(","):
        name, sep, encoded = member.strip(" \t").partition("=")
        name = name.lower()
        if not sep or not name or not encoded:
            raise MalformedError("Digest is not a list of algorithm=value")
        if name in seen:
            raise MalformedError(f"Digest lists {name} twice")
        seen.add(name)
        if name in _HASHES:
            try:
                digests[name] = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise MalformedError(f"Digest {name} is not base64") from None
    _check("Digest", digests, body)


def verify_content_digest(value: str, body: bytes) -> None:
    """Check an RFC 9530 `Content-Digest`: a structured dictionary of byte sequences."""
    digests: dict[str, bytes] = {}
    for name, member in parse_dictionary(value).items():
        if name not in _HASHES:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise MalformedError(f"Content-Digest {name} is not a byte sequence")
        digests[name] = member.value
    _check("Content-Digest", digests, body)
