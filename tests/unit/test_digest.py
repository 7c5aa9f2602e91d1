"""Digest and Content-Digest against the RFC 9530 and draft-cavage-12 vectors, and the refusals."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from fedipub.digest import (
    build_content_digest,
    build_digest_header,
    verify_content_digest,
    verify_digest_header,
)
from fedipub.errors import MalformedError, SignatureError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "digest"
RFC9530 = json.loads((FIXTURES / "rfc9530-vectors.json").read_text())["vectors"]
LEGACY = json.loads((FIXTURES / "legacy-digest-header-vectors.json").read_text())["vectors"]
HELLO = b'{"hello": "world"}'


@pytest.mark.parametrize("vector", RFC9530, ids=[v["id"] for v in RFC9530])
def test_content_digest_vectors_build_and_verify(vector: dict[str, Any]) -> None:
    body = base64.b64decode(vector["body_base64"])
    assert body == vector["body_utf8"].encode()
    for algorithm, expected in vector["expected"].items():
        assert build_content_digest(body, algorithm) == f"{algorithm}=:{expected}:"
    for value in vector["header_form"].values():
        verify_content_digest(value, body)


@pytest.mark.parametrize("vector", LEGACY, ids=[v["id"] for v in LEGACY])
def test_legacy_digest_vectors_verify(vector: dict[str, Any]) -> None:
    body = vector["body_utf8"].encode()
    value = vector["header"].removeprefix("Digest: ")
    verify_digest_header(value, body)
    if "," not in value:
        assert build_digest_header(body) == value


def test_digest_algorithm_names_are_case_insensitive() -> None:
    value = build_digest_header(HELLO)
    verify_digest_header(value.replace("SHA-256", "sha-256"), HELLO)


def test_unknown_digest_algorithms_are_ignored_next_to_a_supported_one() -> None:
    verify_digest_header(f"MD5=XrY7u+Ae7tCTyyK7j1rNww==, {build_digest_header(HELLO)}", HELLO)
    verify_content_digest(f"md5=:XrY7u+Ae7tCTyyK7j1rNww==:, {build_content_digest(HELLO)}", HELLO)


def test_every_supported_member_must_match() -> None:
    wrong = build_content_digest(b"something else", "sha-512")
    with pytest.raises(SignatureError, match=r"Content-Digest sha-512 does not match the body"):
        verify_content_digest(f"{build_content_digest(HELLO)}, {wrong}", HELLO)


def test_tampered_body_is_refused() -> None:
    with pytest.raises(SignatureError, match=r"Digest sha-256 does not match the body"):
        verify_digest_header(build_digest_header(HELLO), HELLO + b" ")
    with pytest.raises(SignatureError, match=r"Content-Digest sha-256 does not match the body"):
        verify_content_digest(build_content_digest(HELLO), HELLO + b" ")


def test_rfc9421_test_response_header_as_printed_does_not_match_its_body() -> None:
    """The RFC's printing error, documented in the fixtures' PROVENANCE.md."""
    printed = (
        "sha-512=:JlEy2bfUz7WrWIjc1qV6KVLpdr/7L5/L4h7Sxvh6sNHpDQWDCL+GauFQWcZBvVDhiyOnAQsxzZFYwi0w"
        "DH+1pw==:"
    )
    with pytest.raises(SignatureError, match=r"does not match the body"):
        verify_content_digest(printed, b'{"message": "good dog"}')


def test_only_unsupported_algorithms_is_refused() -> None:
    with pytest.raises(SignatureError, match=r"Digest has no supported algorithm"):
        verify_digest_header("MD5=XrY7u+Ae7tCTyyK7j1rNww==", HELLO)
    with pytest.raises(SignatureError, match=r"Content-Digest has no supported algorithm"):
        verify_content_digest("unixsum=:AAAA:", HELLO)


@pytest.mark.parametrize(
    "value",
    ["", "SHA-256", "=abc", "SHA-256=", "SHA-256=not base64!", "SHA-256=YQ==,SHA-256=YQ=="],
)
def test_malformed_digest_header(value: str) -> None:
    with pytest.raises(MalformedError):
        verify_digest_header(value, HELLO)


@pytest.mark.parametrize(
    "value", ["sha-256=abc", "sha-256=:YQ==:,", "sha-256=:YQ==:, sha-256=:YQ==:", "SHA-256=:YQ==:"]
)
def test_malformed_content_digest(value: str) -> None:
    with pytest.raises(MalformedError):
        verify_content_digest(value, HELLO)


def test_building_with_an_unsupported_algorithm_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match=r"unsupported digest algorithm md5"):
        build_content_digest(HELLO, "md5")
