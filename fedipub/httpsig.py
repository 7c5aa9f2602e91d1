"""draft-cavage-http-signatures-12: the `Signature` header, the signing string, RSA and Ed25519.

This is the HTTP signature the fediverse speaks (Mastodon, Pleroma, GoToSocial, Misskey).
Where the draft and the fediverse disagree we follow the fediverse and say so:
- `headers` defaults to `date` (draft §2.1.6 says `(created)`; its own Appendix C and every
  server in the wild use `date`);
- `hs2019` with an RSA key means RSASSA-PKCS1-v1_5 with SHA-256, as Mastodon and GoToSocial
  sign it, not the PSS the algorithm registry recommends.

Errors: header syntax raises `MalformedError` (400); an unsupported algorithm, a rule of
the draft broken, a key of the wrong type or a bad signature raise `SignatureError` (401).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from fedipub.errors import MalformedError, SignatureError

ALGORITHMS = frozenset({"rsa-sha256", "hs2019", "ed25519"})
_RSA_NAMES = frozenset({"rsa-sha256", "hs2019"})
_ED25519_NAMES = frozenset({"ed25519", "hs2019"})


@dataclass(frozen=True)
class CavageSignature:
    key_id: str
    algorithm: str | None  # as declared; None when the header has no algorithm parameter
    headers: tuple[str, ...]  # lower-cased names, in signing order
    signature: bytes
    created: int | None
    expires: int | None


# One auth-param with the OWS around it (RFC 9110 §11.2): token BWS "=" BWS (token / quoted-string).
_TCHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t\x20-\x7e])*)"'
_PARAM = re.compile(rf"[ \t]*({_TCHARS})[ \t]*=[ \t]*(?:{_QUOTED}|({_TCHARS}))[ \t]*")
_DIGITS = re.compile(r"[0-9]{1,15}")


def _auth_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos = 0
    while True:
        found = _PARAM.match(value, pos)
        if found is None:
            raise MalformedError(f"Signature header: expected name=value at offset {pos}")
        name, quoted, token = found.groups()
        # §2.2: a duplicated parameter means the signature MUST NOT be processed.
        if name in params:
            raise MalformedError(f"Signature header: duplicate parameter {name}")
        params[name] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else token
        pos = found.end()
        if pos == len(value):
            return params
        if value[pos] != ",":
            raise MalformedError(f"Signature header: expected ',' at offset {pos}")
        pos += 1


def _timestamp(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not _DIGITS.fullmatch(value):
        raise MalformedError(f"Signature header: {name} is not an integer")
    return int(value)


def parse_signature_header(value: str) -> CavageSignature:
    """Parse a `Signature` header value (or what follows `Signature ` in `Authorization`).

    Unknown parameters are ignored (§2.2); keyId and signature are required.
    """
    params = _auth_params(value)
    key_id, encoded = params.get("keyId"), params.get("signature")
    if not key_id:
        raise MalformedError("Signature header: keyId is missing")
    if not encoded:
        raise MalformedError("Signature header: signature is missing")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise MalformedError("Signature header: signature is not base64") from None
    headers = tuple(params.get("headers", "date").lower().split())
    if not headers:
        raise MalformedError("Signature header: headers is empty")
    algorithm = params.get("algorithm")
    if algorithm is not None and algorithm.lower() not in ALGORITHMS:
        raise SignatureError(f"unsupported algorithm {algorithm}")
    # §2.3: (created) and (expires) are an error with algorithms starting rsa, hmac or ecdsa.
    rsa_hmac_ecdsa = algorithm is not None and algorithm.lower().startswith(
        ("rsa", "hmac", "ecdsa")
    )
    if rsa_hmac_ecdsa and {"(created)", "(expires)"} & set(headers):
        raise SignatureError(f"(created) and (expires) cannot be signed with {algorithm}")
    return CavageSignature(
        key_id=key_id,
        algorithm=algorithm,
        headers=headers,
        signature=signature,
        created=_timestamp(params, "created"),
        expires=_timestamp(params, "expires"),
    )


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_signature_header(signature: CavageSignature) -> str:
    """The `Signature` header value, in the parameter order Mastodon writes."""
    params = [f"keyId={_quote(signature.key_id)}"]
    if signature.algorithm is not None:
        params.append(f"algorithm={_quote(signature.algorithm)}")
    if signature.created is not None:
        params.append(f"created={signature.created}")
    if signature.expires is not None:
        params.append(f"expires={signature.expires}")
    params.append(f"headers={_quote(' '.join(signature.headers))}")
    params.append(f"signature={_quote(base64.b64encode(signature.signature).decode('ascii'))}")
    return ",".join(params)


def build_signing_string(
    components: Sequence[str],
    *,
    method: str,
    target: str,
    headers: Mapping[str, str],
    created: int | None,
    expires: int | None,
) -> str:
    """The §2.3 signing string: `name: value` lines joined by LF, no trailing LF.

    `headers` has lower-cased names, repeated lines already joined with ", " (§2.3).
    """
    lines: list[str] = []
    for name in (component.lower() for component in components):
        if name == "(request-target)":
            value = f"{method.lower()} {target}"
        elif name in ("(created)", "(expires)"):
            stamp = created if name == "(created)" else expires
            if stamp is None:
                raise SignatureError(f"{name} is signed but has no value")
            value = str(stamp)
        elif name.startswith("("):
            raise SignatureError(f"unsupported pseudo-header {name}")
        elif name in headers:
            value = headers[name].strip(" \t")
        else:
            raise SignatureError(f"signed header {name} is missing")
        lines.append(f"{name}: {value}")
    signing_string = "\n".join(lines)
    # A line break inside a value would forge another line of the signing string.
    if not signing_string.isascii() or signing_string.count("\n") != len(lines) - 1:
        raise SignatureError("signing string has non-ASCII or line-break characters")
    return signing_string


def _key_mismatch(algorithm: str, key: object) -> SignatureError:
    return SignatureError(f"algorithm {algorithm} does not match a {type(key).__name__}")


def sign_signing_string(
    signing_string: bytes,
    private_key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey,
    algorithm: str,
) -> bytes:
    name = algorithm.lower()
    if name not in ALGORITHMS:
        raise SignatureError(f"unsupported algorithm {algorithm}")
    if isinstance(private_key, rsa.RSAPrivateKey) and name in _RSA_NAMES:
        return private_key.sign(signing_string, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(private_key, ed25519.Ed25519PrivateKey) and name in _ED25519_NAMES:
        return private_key.sign(signing_string)
    raise _key_mismatch(name, private_key)


def verify_signing_string(
    signing_string: bytes,
    signature: bytes,
    public_key: PublicKeyTypes,
    algorithm: str | None,
) -> None:
    """Raise SignatureError unless `signature` is valid; no algorithm behaves as hs2019."""
    name = (algorithm or "hs2019").lower()
    if name not in ALGORITHMS:
        raise SignatureError(f"unsupported algorithm {algorithm}")
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and name in _RSA_NAMES:
            public_key.verify(signature, signing_string, padding.PKCS1v15(), hashes.SHA256())
            return
        if isinstance(public_key, ed25519.Ed25519PublicKey) and name in _ED25519_NAMES:
            public_key.verify(signature, signing_string)
            return
    except InvalidSignature:
        raise SignatureError("signature does not verify") from None
    raise _key_mismatch(name, public_key)
