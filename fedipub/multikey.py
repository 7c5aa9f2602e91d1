"""Multikey encoding of Ed25519 public keys (FEP-521a, W3C Controlled Identifiers).

A Multikey `publicKeyMultibase` is `z` + base58btc(0xed 0x01 + the 32 raw key bytes).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fedipub.errors import MalformedError

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ED25519_PREFIX = b"\xed\x01"


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _ALPHABET[rest] + out
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _ALPHABET.find(char)
        if index < 0:
            raise MalformedError("invalid base58 character in multibase key")
        number = number * 58 + index
    leading_ones = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading_ones + body


def encode_ed25519_multikey(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "z" + b58encode(_ED25519_PREFIX + raw)


def decode_ed25519_multikey(value: str) -> Ed25519PublicKey:
    if not value.startswith("z") or len(value) > 64:
        raise MalformedError("publicKeyMultibase must be base58btc ('z…')")
    decoded = b58decode(value[1:])
    if len(decoded) != 34 or not decoded.startswith(_ED25519_PREFIX):
        raise MalformedError("publicKeyMultibase is not an Ed25519 multikey")
    return Ed25519PublicKey.from_public_bytes(decoded[2:])
