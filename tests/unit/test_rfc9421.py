"""RFC 9421: every published signature base rebuilt from its message file, verified, and re-signed
where the algorithm is deterministic; the structured-field parser; the refusals."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from fedipub.digest import verify_content_digest
from fedipub.errors import MalformedError, SignatureError
from fedipub.rfc9421 import (
    HttpMessage,
    SignatureInput,
    authority_of,
    build_signature_base,
    build_signature_headers,
    parse_signatures,
    sign_base,
    verify_base,
)
from fedipub.signatures import combine_header_lines
from fedipub.structured_fields import InnerList, Item, Token, parse_dictionary

FIXTURES = Path(__file__).parent.parent / "fixtures" / "httpsig" / "rfc9421"
DOCUMENT = json.loads((FIXTURES / "vectors.json").read_text())
VECTORS = DOCUMENT["vectors"]
# The test-response message prints a wrong Content-Digest; B.2.4's base has the right one.
RESPONSE_DIGEST = DOCUMENT["messages"]["test-response"]["known_issue"].split("correct value is ")[1]
RESPONSE_DIGEST = "sha-512=:" + RESPONSE_DIGEST.split()[0] + ":"


def _message(name: str) -> tuple[HttpMessage, bytes]:
    """An HTTP/1.1 message file → its parts; requests are taken to have come over https."""
    path = FIXTURES / (name if name.startswith("messages/") else f"messages/{name}.http")
    head, _, body = path.read_text().partition("\n\n")
    start, *lines = head.split("\n")
    headers = combine_header_lines((n, v) for n, _, v in (line.partition(":") for line in lines))
    if start.startswith("HTTP/"):
        return HttpMessage(headers=headers, status=int(start.split()[1])), body.encode()
    method, target, _ = start.split(" ")
    return HttpMessage(headers, method, f"https://{headers['host']}{target}"), body.encode()


def _private_key(keyid: str) -> PrivateKeyTypes | bytes:
    if keyid == "test-shared-secret":
        return base64.b64decode((FIXTURES / "keys/test-shared-secret.b64.txt").read_text())
    pem = (FIXTURES / f"keys/{keyid}.private.pem").read_bytes()
    return serialization.load_pem_private_key(pem, None)


def _public_key(keyid: str) -> PublicKeyTypes | bytes:
    if keyid == "test-shared-secret":
        return base64.b64decode((FIXTURES / "keys/test-shared-secret.b64.txt").read_text())
    return serialization.load_pem_public_key((FIXTURES / f"keys/{keyid}.public.pem").read_bytes())


def _vector_message(vector: dict[str, Any]) -> HttpMessage:
    message, _ = _message(vector["message"])
    if vector["id"] == "B.2.4":
        headers = {**message.headers, "content-digest": RESPONSE_DIGEST}
        message = dataclasses.replace(message, headers=headers)
    return message


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector_base_is_rebuilt_from_the_message_and_verifies(vector: dict[str, Any]) -> None:
    label, keyid, alg = vector["label"], vector["keyid"], vector["alg"]
    signature_header = f"{label}=:{vector['signature_b64']}:"
    signed = parse_signatures(vector["signature_input_header"], signature_header)[label]
    assert signed.signature_input.keyid == keyid
    base = build_signature_base(signed.signature_input, _vector_message(vector))
    assert base == vector["signature_base"]
    fields = build_signature_headers(label, signed.signature_input, signed.signature)
    assert fields == {
        "Signature-Input": vector["signature_input_header"],
        "Signature": signature_header,
    }
    public_key = _public_key(keyid)
    verify_base(base.encode(), signed.signature, public_key, alg)
    verify_base(base.encode(), signed.signature, public_key, None)  # §3.2: the key decides
    with pytest.raises(SignatureError, match=r"signature does not verify"):
        verify_base(base.encode() + b" ", signed.signature, public_key, alg)
    fresh = sign_base(base.encode(), _private_key(keyid), alg)
    if vector["deterministic"]:
        assert fresh == signed.signature
    verify_base(base.encode(), fresh, public_key, alg)


def test_signature_values_in_the_vectors_match_the_printed_fields() -> None:
    for vector in VECTORS:
        if "signature_header" in vector:
            label = vector["label"]
            assert vector["signature_header"] == f"{label}=:{vector['signature_b64']}:"


def test_message_digests_are_true_except_the_misprinted_response() -> None:
    request, body = _message("test-request")
    verify_content_digest(request.headers["content-digest"], body)
    response, body = _message("test-response")
    with pytest.raises(SignatureError, match=r"does not match the body"):
        verify_content_digest(response.headers["content-digest"], body)
    verify_content_digest(RESPONSE_DIGEST, body)


def test_several_signatures_in_one_message_are_selected_by_label() -> None:
    """§4.3: a proxy adds proxy_sig next to the client's sig1."""
    message, _ = _message("messages/sec-4.3-proxied-request-signed.http")
    signatures = parse_signatures(message.headers["signature-input"], message.headers["signature"])
    assert list(signatures) == ["sig1", "proxy_sig"]
    proxy = signatures["proxy_sig"]
    vector = next(v for v in VECTORS if v["label"] == "proxy_sig")
    base = build_signature_base(proxy.signature_input, message)
    assert base == vector["signature_base"]
    verify_base(base.encode(), proxy.signature, _public_key("test-key-rsa"), "rsa-v1_5-sha256")
    # The client signed the authority it saw (example.com, now in Forwarded), not the proxy's.
    client = signatures["sig1"]
    key = _public_key("test-key-ecc-p256")
    inner = build_signature_base(client.signature_input, message).encode()
    with pytest.raises(SignatureError, match=r"signature does not verify"):
        verify_base(inner, client.signature, key, "ecdsa-p256-sha256")
    original = dataclasses.replace(message, url="https://example.com/foo?param=Value&Pet=dog")
    outer = build_signature_base(client.signature_input, original).encode()
    verify_base(outer, client.signature, key, "ecdsa-p256-sha256")


def test_tls_terminating_proxy_signature_from_the_signed_message() -> None:
    message, _ = _message("messages/B.3-proxy-signed-request.http")
    signed = parse_signatures(message.headers["signature-input"], message.headers["signature"])
    base = build_signature_base(signed["ttrp"].signature_input, message)
    assert base == next(v for v in VECTORS if v["id"] == "B.3")["signature_base"]
    verify_base(base.encode(), signed["ttrp"].signature, _public_key("test-key-ecc-p256"), None)


TRANSFORMS = next(v for v in VECTORS if v["id"] == "B.4")["transform_cases"]


@pytest.mark.parametrize("case", TRANSFORMS, ids=[c["message"] for c in TRANSFORMS])
def test_transformations_keep_or_break_the_signature(case: dict[str, Any]) -> None:
    """B.4: reordering and re-folding fields keeps it; a new method, host or Accept order not."""
    message, _ = _message(case["message"])
    signed = parse_signatures(message.headers["signature-input"], message.headers["signature"])
    base = build_signature_base(signed["transform"].signature_input, message).encode()
    key = _public_key("test-key-ed25519")
    if case["still_valid"]:
        verify_base(base, signed["transform"].signature, key, "ed25519")
    else:
        with pytest.raises(SignatureError, match=r"signature does not verify"):
            verify_base(base, signed["transform"].signature, key, "ed25519")


def _base_line(component: str, url: str, method: str = "POST") -> str:
    signature_input = SignatureInput((parse_dictionary(f"x={component}")["x"],), ())  # type: ignore[arg-type]
    message = HttpMessage(headers={}, method=method, url=url)
    return build_signature_base(signature_input, message).split("\n")[0]


EXAMPLE = "https://www.example.com/path?param=value"
QUERY = "https://x.example/path?param=value&foo=bar&baz=batman&qux="
ENCODED = "https://x.example/p?var=this%20is%20a%20big%0Avalue&bar=with+plus+whitespace"
FACADE = "https://x.example/p?fa%C3%A7ade%22%3A%20=something"


@pytest.mark.parametrize(
    ("component", "url", "line"),
    [  # RFC 9421 §2.2 examples
        ('"@target-uri"', EXAMPLE, EXAMPLE),
        ('"@authority"', "https://www.example.com:443/path", "www.example.com"),
        ('"@authority"', "http://WWW.Example.com:8080/", "www.example.com:8080"),
        ('"@scheme"', "HTTP://www.example.com/", "http"),
        ('"@request-target"', EXAMPLE, "/path?param=value"),
        ('"@path"', "https://www.example.com", "/"),
        ('"@query"', "https://x.example/path?baz=bat%2Dman", "?baz=bat%2Dman"),
        ('"@query"', "https://www.example.com/path?queryString", "?queryString"),
        ('"@query"', "https://www.example.com/path", "?"),
        ('"@query-param";name="baz"', QUERY, "batman"),
        ('"@query-param";name="qux"', QUERY, ""),
        ('"@query-param";name="var"', ENCODED, "this%20is%20a%20big%0Avalue"),
        ('"@query-param";name="bar"', ENCODED, "with%20plus%20whitespace"),
        ('"@query-param";name="fa%C3%A7ade%22%3A%20"', FACADE, "something"),
    ],
)
def test_derived_components(component: str, url: str, line: str) -> None:
    assert _base_line(component, url) == f"{component}: {line}"


@pytest.mark.parametrize(
    ("component", "reason"),
    [
        ('"@query-param";name="a"', "query parameter a is missing or repeated"),
        ('"@query-param";name="twice"', "query parameter twice is missing or repeated"),
        ('"@query-param"', "@query-param needs exactly one parameter, name"),
        ('"@query-param";name=1', "@query-param needs a string name parameter"),
        ('"content-type";sf', "unsupported parameters on covered component content-type"),
        ('"@status"', "@status can only be covered in a response"),
        ('"@signature-params"', "@signature-params cannot be a covered component"),
        ('"@frobnicate"', "unsupported derived component @frobnicate"),
        ('"Host"', "covered field name Host is not lower-case"),
        ('"date"', "covered field date is missing"),
    ],
)
def test_components_that_cannot_be_covered(component: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        _base_line(component, "https://x.example/?twice=1&twice=2")


def test_a_component_covered_twice_is_refused() -> None:
    item = Item("@method")
    with pytest.raises(SignatureError, match='component "@method" is covered twice'):
        build_signature_base(SignatureInput((item, item), ()), HttpMessage({}, "GET", "https://x/"))


def test_request_components_need_a_request() -> None:
    response = HttpMessage(headers={}, status=200)
    with pytest.raises(SignatureError, match=r"@method cannot be covered without a request method"):
        build_signature_base(SignatureInput((Item("@method"),), ()), response)
    with pytest.raises(SignatureError, match=r"without a request URL"):
        build_signature_base(SignatureInput((Item("@path"),), ()), response)


def test_a_line_break_in_a_field_value_is_refused() -> None:
    message = HttpMessage(headers={"x": 'a\n"@method": GET'}, method="POST", url="https://x/")
    with pytest.raises(SignatureError, match=r"line-break"):
        build_signature_base(SignatureInput((Item("x"),), ()), message)


def test_structured_field_dictionary_subset() -> None:
    parsed = parse_dictionary(
        ' a=1, b=-2;p=?0, c="q\\"s", d=tok/en:x, e=:AQI=:, f, g=(1 "x";n=?1 t);k=*z, h=?1 '
    )
    assert parsed == {
        "a": Item(1),
        "b": Item(-2, (("p", False),)),
        "c": Item('q"s'),
        "d": Item(Token("tok/en:x")),
        "e": Item(b"\x01\x02"),
        "f": Item(True),
        "g": InnerList(
            (Item(1), Item("x", (("n", True),)), Item(Token("t"))), (("k", Token("*z")),)
        ),
        "h": Item(True),
    }
    assert parse_dictionary("") == {}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a=1, a=2", "duplicate key a"),
        ("a=1;p;p", "duplicate parameter p"),
        ("a=1,", "trailing comma"),
        ("a=1.5", "expected an integer"),
        ("a=1234567890123456", "expected an integer"),
        ("A=1", "expected a dictionary key"),
        ('a="caf\u00e9"', "not ASCII"),
        ('a="unterminated', "expected a string"),
        ("a=:not base64!:", "expected a byte sequence"),
        ("a=:AQI:", "not base64"),
        ("a=(1 2", "inner list is not closed"),
        ("a=?2", "expected a boolean"),
        ("a=1 b=2", "expected ','"),
        ("a=%", "unexpected '%'"),
    ],
)
def test_structured_field_refusals(value: str, reason: str) -> None:
    with pytest.raises(MalformedError, match=reason):
        parse_dictionary(value)


@pytest.mark.parametrize(
    ("signature_input", "signature", "reason"),
    [
        ('sig1=();keyid="k"', "sig2=:AA==:", "different labels"),
        ("", "", "Signature-Input is empty"),
        ('sig1="@method"', "sig1=:AA==:", "sig1 is not an inner list"),
        ("sig1=()", 'sig1="AA=="', "sig1 is not a byte sequence"),
        ("sig1=(method)", "sig1=:AA==:", "component identifiers must be strings"),
        ('sig1=();created="now"', "sig1=:AA==:", "created must be an integer"),
        ("sig1=();keyid=k", "sig1=:AA==:", "keyid must be a string"),
        ("sig1=(), sig1=()", "sig1=:AA==:", "duplicate key sig1"),
    ],
)
def test_signature_field_refusals(signature_input: str, signature: str, reason: str) -> None:
    with pytest.raises(MalformedError, match=reason):
        parse_signatures(signature_input, signature)


def test_unknown_signature_parameters_are_kept_in_the_base() -> None:
    value = 's=("@method");created=1;foo=bar;on;off=?0;nonce="n";tag="t"'
    signed = parse_signatures(value, "s=:AA==:")["s"]
    base = build_signature_base(signed.signature_input, HttpMessage({}, "GET", "https://x/"))
    assert base == '"@method": GET\n"@signature-params": ' + value.removeprefix("s=")


def test_algorithm_and_key_type_must_agree() -> None:
    ed_key = ed25519.Ed25519PrivateKey.generate()
    p384 = ec.generate_private_key(ec.SECP384R1())
    rsa_key = _private_key("test-key-rsa")
    assert isinstance(rsa_key, rsa.RSAPrivateKey)
    with pytest.raises(SignatureError, match=r"algorithm rsa-pss-sha512 does not match"):
        sign_base(b"x", ed_key, "rsa-pss-sha512")
    with pytest.raises(SignatureError, match=r"algorithm ecdsa-p256-sha256 does not match"):
        sign_base(b"x", p384, "ecdsa-p256-sha256")
    with pytest.raises(SignatureError, match=r"algorithm hmac-sha256 does not match"):
        sign_base(b"x", rsa_key, "hmac-sha256")
    with pytest.raises(SignatureError, match=r"unsupported algorithm rsa-sha1"):
        sign_base(b"x", rsa_key, "rsa-sha1")
    signature = sign_base(b"x", rsa_key, "rsa-v1_5-sha256")
    with pytest.raises(SignatureError, match=r"algorithm ed25519 does not match an? RSAPublicKey"):
        verify_base(b"x", signature, rsa_key.public_key(), "ed25519")
    with pytest.raises(SignatureError, match=r"unsupported key type"):
        verify_base(b"x", signature, p384.public_key(), None)


def test_ecdsa_signatures_are_raw_r_and_s() -> None:
    key = _private_key("test-key-ecc-p256")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = sign_base(b"base", key, "ecdsa-p256-sha256")
    assert len(signature) == 64
    with pytest.raises(SignatureError, match=r"signature does not verify"):
        verify_base(b"base", signature[:-1], key.public_key(), "ecdsa-p256-sha256")


def test_authority_of_refuses_urls_without_a_usable_host() -> None:
    assert authority_of("https://[::1]:8443/inbox") == "[::1]:8443"
    with pytest.raises(MalformedError, match=r"no host"):
        authority_of("/inbox")
    with pytest.raises(MalformedError, match=r"invalid port"):
        authority_of("https://x.example:99999/")


def test_signature_labels_must_be_keys_and_strings_printable() -> None:
    with pytest.raises(SignatureError, match=r"is not a structured-field key"):
        build_signature_headers("Sig", SignatureInput((), ()), b"")
    with pytest.raises(SignatureError, match=r"strings must be printable ASCII"):
        build_signature_headers("sig", SignatureInput((), (("keyid", "a\nb"),)), b"")
