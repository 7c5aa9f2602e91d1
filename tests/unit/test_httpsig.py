"""draft-cavage-12: Appendix C re-signed and verified, strict parsing, key/algorithm pairs."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from fedipub.errors import MalformedError, SignatureError
from fedipub.httpsig import (
    CavageSignature,
    build_signature_header,
    build_signing_string,
    parse_signature_header,
    sign_signing_string,
    verify_signing_string,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "httpsig" / "cavage-12"
VECTORS = json.loads((FIXTURES / "vectors.json").read_text())
REQUEST = VECTORS["request"]
HEADERS = {name.lower(): value for name, value in REQUEST["headers"]}
TESTS = VECTORS["tests"]


def _private_key() -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((FIXTURES / "test-key.private.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _public_key() -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key((FIXTURES / "test-key.public.pem").read_bytes())
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def _signing_string(signature: CavageSignature) -> str:
    return build_signing_string(
        signature.headers,
        method=REQUEST["method"],
        target=REQUEST["target"],
        headers=HEADERS,
        created=signature.created,
        expires=signature.expires,
    )


def test_the_appendix_c_key_is_1024_bit_not_2048_as_printed() -> None:
    assert _public_key().key_size == VECTORS["key"]["bits"] == 1024


@pytest.mark.parametrize("vector", TESTS, ids=[t["id"] for t in TESTS])
def test_appendix_c_vector_resigns_byte_for_byte_and_verifies(vector: dict[str, Any]) -> None:
    for value in (vector["signature_header"], vector["authorization_header"][len("Signature ") :]):
        parsed = parse_signature_header(value)
        assert parsed.key_id == "Test"
        assert parsed.algorithm == "rsa-sha256"
        assert parsed.headers == tuple(vector["signed_headers"])
        signing_string = _signing_string(parsed)
        assert signing_string == vector["signing_string"]
        resigned = sign_signing_string(signing_string.encode(), _private_key(), "rsa-sha256")
        assert base64.b64encode(resigned).decode() == vector["signature_b64"]
        assert parsed.signature == resigned
        verify_signing_string(
            signing_string.encode(), parsed.signature, _public_key(), "rsa-sha256"
        )


def test_header_round_trips_through_build_and_parse() -> None:
    vector = TESTS[2]
    parsed = parse_signature_header(vector["signature_header"])
    assert build_signature_header(parsed) == vector["signature_header"]
    assert parse_signature_header(build_signature_header(parsed)) == parsed


def test_c3_as_printed_in_draft_12_is_refused_and_does_not_verify() -> None:
    """Draft-12 prints C.3 with (created)/(expires) and the old 6-header signature."""
    printed = TESTS[2]["draft12_as_printed"]
    with pytest.raises(SignatureError, match=r"\(created\) and \(expires\) cannot be signed"):
        parse_signature_header(printed["authorization_header"][len("Signature ") :])
    eight_lines = printed["signing_string_if_created_expires_were_signed"].encode()
    signature = base64.b64decode(TESTS[2]["signature_b64"])
    with pytest.raises(SignatureError, match=r"signature does not verify"):
        verify_signing_string(eight_lines, signature, _public_key(), "rsa-sha256")


def test_created_and_expires_lines_for_hs2019() -> None:
    parsed = parse_signature_header(
        'keyId="k",algorithm="hs2019",created=1402170695,expires="1402170699",'
        'headers="(request-target) (created) (expires) host",signature="AAAA"'
    )
    assert (parsed.created, parsed.expires) == (1402170695, 1402170699)
    assert _signing_string(parsed) == (
        "(request-target): post /foo?param=value&pet=dog\n"
        "(created): 1402170695\n(expires): 1402170699\nhost: example.com"
    )


def test_headers_defaults_to_date_and_unknown_params_are_ignored() -> None:
    parsed = parse_signature_header('keyId="k", future="x" ,signature="AAAA"')
    assert parsed.headers == ("date",)
    assert parsed.algorithm is None
    assert parsed.signature == b"\x00\x00\x00"


def test_quoted_string_escapes() -> None:
    parsed = parse_signature_header(r'keyId="a\"b\\c",signature="AAAA"')
    assert parsed.key_id == 'a"b\\c'
    assert parse_signature_header(build_signature_header(parsed)).key_id == 'a"b\\c'


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('keyId="a",keyId="b",signature="AAAA"', "duplicate parameter keyId"),
        ('keyId="a",signature="AAAA",signature="AAAA"', "duplicate parameter signature"),
        ('signature="AAAA"', "keyId is missing"),
        ('keyId="a"', "signature is missing"),
        ('keyId="a",signature="not base64!"', "signature is not base64"),
        ('keyId="a",headers="",signature="AAAA"', "headers is empty"),
        ('keyId="a",created=soon,signature="AAAA"', "created is not an integer"),
        ('keyId="a",signature="AAAA",', "expected name=value"),
        ('keyId="a" signature="AAAA"', "expected ','"),
        ('keyId="unterminated,signature="AAAA"', "expected ','"),
        ("garbage", "expected name=value"),
        ("", "expected name=value"),
    ],
)
def test_malformed_headers_are_refused(value: str, reason: str) -> None:
    with pytest.raises(MalformedError, match=reason):
        parse_signature_header(value)


def test_unsupported_algorithm_is_refused_at_parse() -> None:
    with pytest.raises(SignatureError, match=r"unsupported algorithm hmac-sha256"):
        parse_signature_header('keyId="a",algorithm="hmac-sha256",signature="AAAA"')


def test_signing_string_refusals() -> None:
    def build(names: list[str], headers: dict[str, str]) -> str:
        return build_signing_string(
            names, method="GET", target="/", headers=headers, created=None, expires=None
        )

    with pytest.raises(SignatureError, match=r"signed header digest is missing"):
        build(["digest"], {})
    with pytest.raises(SignatureError, match=r"\(created\) is signed but has no value"):
        build(["(created)"], {})
    with pytest.raises(SignatureError, match=r"unsupported pseudo-header \(algorithm\)"):
        build(["(algorithm)"], {})
    with pytest.raises(SignatureError, match=r"non-ASCII or line-break"):
        build(["host", "date"], {"host": "a\ndate: forged", "date": "x"})
    assert build(["Host"], {"host": "  example.com "}) == "host: example.com"


def test_ed25519_signs_with_hs2019_and_ed25519() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    for algorithm in ("hs2019", "ed25519"):
        signature = sign_signing_string(b"date: now", key, algorithm)
        verify_signing_string(b"date: now", signature, key.public_key(), algorithm)
    verify_signing_string(b"date: now", signature, key.public_key(), None)
    with pytest.raises(SignatureError, match=r"signature does not verify"):
        verify_signing_string(b"date: later", signature, key.public_key(), "hs2019")


def test_hs2019_with_rsa_is_pkcs1_v1_5_sha256_as_mastodon_signs_it() -> None:
    signing_string = TESTS[1]["signing_string"].encode()
    signature = sign_signing_string(signing_string, _private_key(), "hs2019")
    assert base64.b64encode(signature).decode() == TESTS[1]["signature_b64"]
    verify_signing_string(signing_string, signature, _public_key(), None)


def test_algorithm_and_key_type_must_agree() -> None:
    ed_key = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(SignatureError, match=r"algorithm rsa-sha256 does not match"):
        sign_signing_string(b"x", ed_key, "rsa-sha256")
    with pytest.raises(SignatureError, match=r"algorithm ed25519 does not match"):
        sign_signing_string(b"x", _private_key(), "ed25519")
    rsa_signature = sign_signing_string(b"x", _private_key(), "rsa-sha256")
    with pytest.raises(SignatureError, match=r"algorithm ed25519 does not match an? RSAPublicKey"):
        verify_signing_string(b"x", rsa_signature, _public_key(), "ed25519")
    with pytest.raises(SignatureError, match=r"algorithm rsa-sha256 does not match"):
        verify_signing_string(b"x", rsa_signature, ed_key.public_key(), "rsa-sha256")
    with pytest.raises(SignatureError, match=r"unsupported algorithm rsa-sha1"):
        verify_signing_string(b"x", rsa_signature, _public_key(), "rsa-sha1")
    with pytest.raises(SignatureError, match=r"unsupported algorithm rsa-sha1"):
        sign_signing_string(b"x", _private_key(), "rsa-sha1")
