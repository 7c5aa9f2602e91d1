"""The one door to HTTP signatures, for the inbox (verify) and the outbound client (sign).

Two formats: draft-cavage-12 (`httpsig`, what Mastodon and most of the fediverse send) and
RFC 9421 (`rfc9421`, what Fedify and newer servers send). Verification has two steps so the
key fetch sits between them: `parse_request_signature` checks everything that needs no key
(syntax, coverage, digest, time window) and returns a `SignedRequest`; once the key named
by `key_id` is known, `verify_signed_request` checks the signature itself.

Inbound rules (as Mastodon's SignatureVerification and Fedify's verifyRequest enforce them):
- the request line is covered: cavage `(request-target)`; RFC 9421 `@method` and
  `@target-uri`, or `@request-target`, or `@path` (with `@query` when the URL has a query);
- the host is covered: cavage `host`; RFC 9421 `@target-uri`, `@authority` or `host`; a
  covered Host header must name this server (the authority of `url`);
- a time is covered: `date`, or cavage `(created)` / RFC 9421 `created`;
- POST (or any request with a body) covers `digest` (cavage) / `content-digest` (RFC 9421),
  and that header is present and matches the raw body;
- no covered time is more than `max_skew` seconds in the future; a covered `expires` in the
  past is refused; without `expires`, a covered time more than `max_skew` seconds in the past
  is refused; with one, the signature may live up to `max_age` seconds (Mastodon: one hour
  of clock skew, twelve hours at most).

`headers` everywhere: lower-cased field names, a field sent on several lines combined with
", " (`combine_header_lines`). Every refusal is a `SignatureError` (401) whose reason names the
rule, or a `MalformedError` (400) for header syntax.
"""

from __future__ import annotations

import email.utils
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from fedipub import httpsig, rfc9421, structured_fields
from fedipub.digest import (
    build_content_digest,
    build_digest_header,
    verify_content_digest,
    verify_digest_header,
)
from fedipub.errors import MalformedError, SignatureError

MAX_SKEW = 3600
MAX_AGE = 12 * 3600
SIGNATURE_LABEL = "sig1"

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class SignatureFormat(enum.Enum):
    CAVAGE = "cavage"
    RFC9421 = "rfc9421"


@dataclass(frozen=True)
class SignedRequest:
    """Everything needed to verify a request's signature once the key is known."""

    format: SignatureFormat
    key_id: str
    algorithm: str | None  # as declared; None when the request names none
    base: bytes  # the cavage signing string or the RFC 9421 signature base
    signature: bytes
    created: int | None


def combine_header_lines(lines: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header lines → the `headers` mapping: names lower-cased, values trimmed, repeated
    fields joined with ", " in order (cavage-12 §2.3, RFC 9421 §2.1)."""
    combined: dict[str, str] = {}
    for name, value in lines:
        key, value = name.lower(), value.strip(" \t")
        combined[key] = f"{combined[key]}, {value}" if key in combined else value
    return combined


def _http_date(value: str) -> int:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise MalformedError("date header is not an HTTP date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _check_host(headers: Mapping[str, str], url: str) -> None:
    """A covered Host must name us: a request signed for another server, replayed here with
    its original Host header, verifies but was never meant for us."""
    host = headers["host"]
    if not host or any(c in host for c in "/?#@\\"):
        raise SignatureError("host header is not an authority")
    scheme = urlsplit(url).scheme
    if rfc9421.authority_of(f"{scheme}://{host}") != rfc9421.authority_of(url):
        raise SignatureError("host header does not match the request URL")


def _check_times(
    stamps: Mapping[str, int], expires: int | None, *, now: int, max_skew: int, max_age: int
) -> None:
    for name, stamp in stamps.items():
        if stamp > now + max_skew:
            raise SignatureError(f"{name} is in the future")
        if now - stamp > max_age:
            raise SignatureError("signature too old")
        if expires is None and now - stamp > max_skew:
            raise SignatureError(f"{name} outside the accepted window")
    # cavage-12 §2.1.5: an expiration time in the past MUST fail validation.
    if expires is not None and expires < now:
        raise SignatureError("signature expired")


def _require(covered: bool, what: str) -> None:
    if not covered:
        raise SignatureError(f"{what} not covered by signature")


def _has_body(method: str, body: bytes) -> bool:
    return method.upper() == "POST" or bool(body)


def parse_request_signature(
    *,
    method: str,
    target: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    max_skew: int = MAX_SKEW,
    max_age: int = MAX_AGE,
) -> SignedRequest:
    """Check an inbound request's signature for everything but the key; see the module doc.

    `target` is the request-target as on the request line (path and query); `url` the
    absolute URL of this server the request was sent to (its authority is what a covered
    Host header must equal, and what RFC 9421's derived components are taken from).
    RFC 9421 is preferred when `Signature-Input` is present; with several signatures the
    first in `Signature-Input` is checked.
    """
    limits = {"now": now, "max_skew": max_skew, "max_age": max_age}
    if "signature-input" in headers:
        if "signature" not in headers:
            raise MalformedError("Signature-Input without Signature")
        return _parse_rfc9421(method, url, headers, body, **limits)
    value = headers.get("signature")
    authorization = headers.get("authorization", "")
    if value is None and authorization[:10].lower() == "signature ":
        value = authorization[10:]
    if value is None:
        raise SignatureError("request is not signed")
    return _parse_cavage(value, method, target, url, headers, body, **limits)


def _parse_cavage(
    value: str,
    method: str,
    target: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    max_skew: int,
    max_age: int,
) -> SignedRequest:
    signed = httpsig.parse_signature_header(value)
    covered = set(signed.headers)
    _require("(request-target)" in covered, "(request-target)")
    _require("host" in covered, "host")
    _require(bool({"date", "(created)"} & covered), "date or (created)")
    _require("digest" in covered or not _has_body(method, body), "digest")
    # Built first: it checks that every covered header is present.
    signing_string = httpsig.build_signing_string(
        signed.headers,
        method=method,
        target=target,
        headers=headers,
        created=signed.created,
        expires=signed.expires,
    )
    _check_host(headers, url)
    if "digest" in covered:
        verify_digest_header(headers["digest"], body)
    stamps = {"date": _http_date(headers["date"])} if "date" in covered else {}
    if "(created)" in covered and signed.created is not None:
        stamps["created"] = signed.created
    expires = signed.expires if "(expires)" in covered else None
    _check_times(stamps, expires, now=now, max_skew=max_skew, max_age=max_age)
    return SignedRequest(
        format=SignatureFormat.CAVAGE,
        key_id=signed.key_id,
        algorithm=signed.algorithm,
        base=signing_string.encode("ascii"),
        signature=signed.signature,
        created=signed.created if "(created)" in covered else None,
    )


def _parse_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    max_skew: int,
    max_age: int,
) -> SignedRequest:
    signatures = rfc9421.parse_signatures(headers["signature-input"], headers["signature"])
    signed = next(iter(signatures.values()))
    params = signed.signature_input
    if params.keyid is None:
        raise SignatureError("signature has no keyid")
    if params.alg is not None and params.alg not in rfc9421.ALGORITHMS:
        raise SignatureError(f"unsupported algorithm {params.alg}")
    covered = params.names
    path_covered = "@path" in covered and ("@query" in covered or not urlsplit(url).query)
    _require("@method" in covered, "@method")
    _require(bool({"@target-uri", "@request-target"} & covered) or path_covered, "target")
    _require(bool({"@target-uri", "@authority", "host"} & covered), "authority")
    _require(params.created is not None or "date" in covered, "date or created")
    _require("content-digest" in covered or not _has_body(method, body), "content-digest")
    # Built first: it checks that every covered component is present.
    message = rfc9421.HttpMessage(headers=headers, method=method, url=url)
    base = rfc9421.build_signature_base(params, message)
    if "host" in covered:
        _check_host(headers, url)
    if "content-digest" in covered:
        verify_content_digest(headers["content-digest"], body)
    stamps = {"date": _http_date(headers["date"])} if "date" in covered else {}
    if params.created is not None:
        stamps["created"] = params.created
    _check_times(stamps, params.expires, now=now, max_skew=max_skew, max_age=max_age)
    return SignedRequest(
        format=SignatureFormat.RFC9421,
        key_id=params.keyid,
        algorithm=params.alg,
        base=base.encode("ascii"),
        signature=signed.signature,
        created=params.created,
    )


def verify_signed_request(signed: SignedRequest, public_key: PublicKeyTypes) -> None:
    """Raise SignatureError unless the signature is valid for `public_key`."""
    if signed.format is SignatureFormat.CAVAGE:
        httpsig.verify_signing_string(signed.base, signed.signature, public_key, signed.algorithm)
    else:
        rfc9421.verify_base(signed.base, signed.signature, public_key, signed.algorithm)


def sign_message(message: bytes, private_key: PrivateKey) -> bytes:
    """The signature both formats carry for the algorithms we send (cavage rsa-sha256 and
    hs2019, RFC 9421 rsa-v1_5-sha256 and ed25519): RSASSA-PKCS1-v1_5 with SHA-256, or
    Ed25519, by the key's type."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return private_key.sign(message)


@dataclass(frozen=True)
class PendingSignature:
    """An outbound request's signature headers but for the signature itself: sign `message`
    (`sign_message`, wherever that runs), then `headers(signature)`."""

    message: bytes
    added: Mapping[str, str]  # Host, Date and Digest (cavage), or Content-Digest (RFC 9421)
    complete: Callable[[bytes], dict[str, str]]

    def headers(self, signature: bytes) -> dict[str, str]:
        return {**self.added, **self.complete(signature)}


def prepare_signature(
    *,
    format: SignatureFormat,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    private_key: PrivateKey,
    key_id: str,
    now: int,
) -> PendingSignature:
    """What to sign for an outbound request so that it passes the rules above, and how to turn
    the signature into headers; `private_key` is only looked at for its type.

    `headers`: the request's other headers, lower-cased names; `content-type` (with a body)
    or `accept` (without) is covered when present. A digest is sent iff `body` is not None.
    """
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    view = {name.lower(): value for name, value in headers.items()}
    extra = "content-type" if body is not None else "accept"
    is_rsa = isinstance(private_key, rsa.RSAPrivateKey)
    added: dict[str, str] = {}
    if format is SignatureFormat.CAVAGE:
        added["Date"] = view["date"] = email.utils.formatdate(now, usegmt=True)
        added["Host"] = view["host"] = rfc9421.authority_of(url)
        names = ["(request-target)", "host", "date"]
        if body is not None:
            added["Digest"] = view["digest"] = build_digest_header(body)
            names.append("digest")
        names += [extra] if extra in view else []
        # Mastodon verifies rsa-sha256; hs2019 is how Ed25519 signers say "see the key".
        algorithm = "rsa-sha256" if is_rsa else "hs2019"
        signing_string = httpsig.build_signing_string(
            names, method=method, target=target, headers=view, created=None, expires=None
        )

        def cavage(signature: bytes) -> dict[str, str]:
            header = httpsig.CavageSignature(key_id, algorithm, tuple(names), signature, None, None)
            return {"Signature": httpsig.build_signature_header(header)}

        return PendingSignature(signing_string.encode("ascii"), added, cavage)
    components = ["@method", "@target-uri"]
    if body is not None:
        added["Content-Digest"] = view["content-digest"] = build_content_digest(body)
        components.append("content-digest")
    components += [extra] if extra in view else []
    alg = "rsa-v1_5-sha256" if is_rsa else "ed25519"
    signature_input = rfc9421.SignatureInput(
        tuple(structured_fields.Item(name) for name in components),
        (("created", now), ("keyid", key_id), ("alg", alg)),
    )
    message = rfc9421.HttpMessage(headers=view, method=method.upper(), url=url)
    base = rfc9421.build_signature_base(signature_input, message)

    def rfc9421_headers(signature: bytes) -> dict[str, str]:
        return rfc9421.build_signature_headers(SIGNATURE_LABEL, signature_input, signature)

    return PendingSignature(base.encode("ascii"), added, rfc9421_headers)


def sign_request(
    *,
    format: SignatureFormat,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    private_key: PrivateKey,
    key_id: str,
    now: int,
) -> dict[str, str]:
    """The headers to add to an outbound request (`prepare_signature`), signed here."""
    pending = prepare_signature(
        format=format,
        method=method,
        url=url,
        headers=headers,
        body=body,
        private_key=private_key,
        key_id=key_id,
        now=now,
    )
    return pending.headers(sign_message(pending.message, private_key))
