"""RFC 9421 HTTP Message Signatures: structured fields, the signature base, the algorithms.

Pure functions of their inputs. The RFC 8941 parser covers the subset the signature fields
and RFC 9530 `Content-Digest` need (dictionaries, inner lists, parameters, integers, strings,
tokens, byte sequences, booleans; no decimals, no top-level lists).

Errors: a field that is not valid structured-field syntax, or not the shape RFC 9421 §4
requires, raises `MalformedError` (400). A base that cannot be built from the message (a
covered field is missing, a component is not supported), an unknown algorithm, a key of the
wrong type and a signature that does not verify raise `SignatureError` (401).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from fedipub.errors import MalformedError, SignatureError
from fedipub.structured_fields import (
    KEY,
    BareItem,
    InnerList,
    Item,
    Params,
    Token,
    parse_dictionary,
    serialize_bare,
    serialize_item,
)

_INTEGER_PARAMS = ("created", "expires")
_STRING_PARAMS = ("keyid", "alg", "nonce", "tag")


@dataclass(frozen=True)
class SignatureInput:
    """One member of `Signature-Input`: covered components and signature parameters (§2.3)."""

    components: tuple[Item, ...]
    params: Params

    def __post_init__(self) -> None:
        for component in self.components:
            if type(component.value) is not str:
                raise MalformedError("Signature-Input: component identifiers must be strings")
        for key, value in self.params:
            if key in _INTEGER_PARAMS and type(value) is not int:
                raise MalformedError(f"Signature-Input: {key} must be an integer")
            if key in _STRING_PARAMS and type(value) is not str:
                raise MalformedError(f"Signature-Input: {key} must be a string")

    def _param(self, key: str) -> BareItem | None:
        return next((value for name, value in self.params if name == key), None)

    @property
    def created(self) -> int | None:
        value = self._param("created")
        return value if type(value) is int else None

    @property
    def expires(self) -> int | None:
        value = self._param("expires")
        return value if type(value) is int else None

    @property
    def keyid(self) -> str | None:
        value = self._param("keyid")
        return value if type(value) is str else None

    @property
    def alg(self) -> str | None:
        value = self._param("alg")
        return value if type(value) is str else None

    @property
    def names(self) -> frozenset[str]:
        """Names of the components covered without parameters (what coverage rules ask about)."""
        return frozenset(str(c.value) for c in self.components if not c.params)

    def serialize(self) -> str:
        """The inner list as it appears in `Signature-Input` and on the @signature-params line."""
        inner = " ".join(serialize_item(component) for component in self.components)
        return serialize_item(Item(Token(f"({inner})"), self.params))


@dataclass(frozen=True)
class MessageSignature:
    label: str
    signature_input: SignatureInput
    signature: bytes


def parse_signatures(signature_input: str, signature: str) -> dict[str, MessageSignature]:
    """Pair the members of `Signature-Input` and `Signature` by label, in input order (§4)."""
    inputs = parse_dictionary(signature_input)
    values = parse_dictionary(signature)
    if not inputs:
        raise MalformedError("Signature-Input is empty")
    if inputs.keys() != values.keys():
        raise MalformedError("Signature-Input and Signature have different labels")
    signatures: dict[str, MessageSignature] = {}
    for label, member in inputs.items():
        value = values[label]
        if not isinstance(member, InnerList):
            raise MalformedError(f"Signature-Input: {label} is not an inner list")
        if not isinstance(value, Item) or not isinstance(value.value, bytes):
            raise MalformedError(f"Signature: {label} is not a byte sequence")
        covered = SignatureInput(member.items, member.params)
        signatures[label] = MessageSignature(label, covered, value.value)
    return signatures


def build_signature_headers(
    label: str, signature_input: SignatureInput, signature: bytes
) -> dict[str, str]:
    if not KEY.fullmatch(label):
        raise SignatureError(f"signature label {label!r} is not a structured-field key")
    return {
        "Signature-Input": f"{label}={signature_input.serialize()}",
        "Signature": f"{label}={serialize_bare(signature)}",
    }


@dataclass(frozen=True)
class HttpMessage:
    """What a signature base can cover. `headers`: lower-cased names, repeated lines combined
    with ", " (§2.1); `url`: the absolute target URI of a request; `status`: of a response."""

    headers: Mapping[str, str]
    method: str | None = None
    url: str | None = None
    status: int | None = None


_DEFAULT_PORTS = {"http": 80, "https": 443}


def authority_of(url: str) -> str:
    """The URL's authority normalized as §2.2.3 asks: host lower-cased, default port dropped."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise MalformedError(f"URL has an invalid port: {url}") from None
    host = parts.hostname
    if not host:
        raise MalformedError(f"URL has no host: {url}")
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        return host
    return f"{host}:{port}"


def _url(message: HttpMessage) -> str:
    if message.url is None:
        raise SignatureError("request components cannot be covered without a request URL")
    return message.url


def _method(message: HttpMessage) -> str:
    if message.method is None:
        raise SignatureError("@method cannot be covered without a request method")
    return message.method  # §2.2.1: case-sensitive, not normalized


def _status(message: HttpMessage) -> str:
    if message.status is None:
        raise SignatureError("@status can only be covered in a response")
    return str(message.status)


def _request_target(message: HttpMessage) -> str:
    parts = urlsplit(_url(message))
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _query_param(message: HttpMessage, name: BareItem) -> str:
    if type(name) is not str:
        raise SignatureError("@query-param needs a string name parameter")
    wanted = unquote_plus(name)
    matches = [
        v
        for k, v in parse_qsl(urlsplit(_url(message)).query, keep_blank_values=True)
        if k == wanted
    ]
    # §2.2.8: a parameter that occurs more than once cannot be covered unambiguously.
    if len(matches) != 1:
        raise SignatureError(f"query parameter {name} is missing or repeated")
    return quote(matches[0], safe="")


_DERIVED: dict[str, Callable[[HttpMessage], str]] = {  # §2.2
    "@method": _method,
    "@target-uri": _url,
    "@authority": lambda message: authority_of(_url(message)),
    "@scheme": lambda message: urlsplit(_url(message)).scheme.lower(),
    "@path": lambda message: urlsplit(_url(message)).path or "/",  # §2.2.6: "" is "/"
    "@query": lambda message: "?" + urlsplit(_url(message)).query,  # §2.2.7: none is "?"
    "@request-target": _request_target,
    "@status": _status,
}


def _component_value(component: Item, message: HttpMessage) -> str:
    name = str(component.value)
    if name == "@query-param":
        if len(component.params) != 1 or component.params[0][0] != "name":
            raise SignatureError("@query-param needs exactly one parameter, name")
        return _query_param(message, component.params[0][1])
    # §2.1's field parameters (sf, key, bs, req, tr) are not implemented: refuse, never guess.
    if component.params:
        raise SignatureError(f"unsupported parameters on covered component {name}")
    derive = _DERIVED.get(name)
    if derive is not None:
        return derive(message)
    if name.startswith("@"):
        raise SignatureError(f"unsupported derived component {name}")
    if name != name.lower():
        raise SignatureError(f"covered field name {name} is not lower-case")
    value = message.headers.get(name)
    if value is None:
        raise SignatureError(f"covered field {name} is missing")
    return value.strip(" \t")


def build_signature_base(signature_input: SignatureInput, message: HttpMessage) -> str:
    """The signature base of §2.5: one line per covered component, then @signature-params."""
    lines: list[str] = []
    for component in signature_input.components:
        identifier = serialize_item(component)
        if str(component.value) == "@signature-params":
            raise SignatureError("@signature-params cannot be a covered component")
        if any(line.startswith(identifier + ": ") for line in lines):
            raise SignatureError(f"component {identifier} is covered twice")
        lines.append(f"{identifier}: {_component_value(component, message)}")
    lines.append(f'"@signature-params": {signature_input.serialize()}')
    base = "\n".join(lines)
    # §2.5: the base is ASCII; a line break inside a value would forge another line.
    if not base.isascii() or "\r" in base or base.count("\n") != len(lines) - 1:
        raise SignatureError("signature base has non-ASCII or line-break characters")
    return base


ALGORITHMS = frozenset(
    {"rsa-v1_5-sha256", "rsa-pss-sha512", "ecdsa-p256-sha256", "ed25519", "hmac-sha256"}
)
# §3.3.1: RSASSA-PSS with SHA-512, MGF1 with SHA-512 and a 64-byte salt.
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


def _refusal(alg: str, key: object) -> SignatureError:
    if alg not in ALGORITHMS:
        return SignatureError(f"unsupported algorithm {alg}")
    return SignatureError(f"algorithm {alg} does not match a {type(key).__name__}")


def sign_base(base: bytes, key: PrivateKeyTypes | bytes, alg: str) -> bytes:
    """Sign a signature base with `alg` (§3.3); `key` is the shared secret for hmac-sha256."""
    if alg == "hmac-sha256" and isinstance(key, bytes):
        return hmac.digest(key, base, "sha256")
    if alg == "rsa-v1_5-sha256" and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(base, padding.PKCS1v15(), hashes.SHA256())
    if alg == "rsa-pss-sha512" and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(base, _PSS, hashes.SHA512())
    if (
        alg == "ecdsa-p256-sha256"
        and isinstance(key, ec.EllipticCurvePrivateKey)
        and isinstance(key.curve, ec.SECP256R1)
    ):
        # §3.3.4: the signature is r and s as two 32-byte big-endian integers, not DER.
        r, s = decode_dss_signature(key.sign(base, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if alg == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(base)
    raise _refusal(alg, key)


def _verifies(base: bytes, signature: bytes, key: PublicKeyTypes | bytes, alg: str) -> bool:
    try:
        if alg == "hmac-sha256" and isinstance(key, bytes):
            return hmac.compare_digest(hmac.digest(key, base, "sha256"), signature)
        if alg == "rsa-v1_5-sha256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, base, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "rsa-pss-sha512" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, base, _PSS, hashes.SHA512())
        elif (
            alg == "ecdsa-p256-sha256"
            and isinstance(key, ec.EllipticCurvePublicKey)
            and isinstance(key.curve, ec.SECP256R1)
        ):
            if len(signature) != 64:
                return False
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), base, ec.ECDSA(hashes.SHA256()))
        elif alg == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, base)
        else:
            raise _refusal(alg, key)
    except InvalidSignature:
        return False
    return True


def _algorithms_for(key: PublicKeyTypes | bytes) -> tuple[str, ...]:
    """§3.2: without `alg`, the key material decides. An RSA key does not say which
    RSA scheme, so both registered ones are tried (neither weakens the other)."""
    if isinstance(key, bytes):
        return ("hmac-sha256",)
    if isinstance(key, rsa.RSAPublicKey):
        return ("rsa-v1_5-sha256", "rsa-pss-sha512")
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ("ed25519",)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return ("ecdsa-p256-sha256",)
    raise SignatureError(f"unsupported key type {type(key).__name__}")


def verify_base(
    base: bytes, signature: bytes, key: PublicKeyTypes | bytes, alg: str | None
) -> None:
    """Raise SignatureError unless `signature` is valid over `base` with `key`."""
    candidates = (alg,) if alg is not None else _algorithms_for(key)
    if not any(_verifies(base, signature, key, candidate) for candidate in candidates):
        raise SignatureError("signature does not verify")
