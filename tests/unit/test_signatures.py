"""The façade: what we sign we accept, what others sign we accept, and every inbound rule refuses
what it should, with a reason that names the rule."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)

from fedipub import httpsig, rfc9421, structured_fields
from fedipub.digest import build_digest_header
from fedipub.errors import MalformedError, SignatureError
from fedipub.signatures import (
    SignatureFormat,
    SignedRequest,
    combine_header_lines,
    parse_request_signature,
    sign_request,
    verify_signed_request,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "httpsig"
NOW = 1_700_000_000
INBOX = "https://blog.example/inbox"
KEY_ID = "https://social.example/users/alice#main-key"
BODY = b'{"type": "Follow", "actor": "https://social.example/users/alice"}'
Key = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
CAVAGE, RFC9421 = SignatureFormat.CAVAGE, SignatureFormat.RFC9421


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def _signed(
    format: SignatureFormat,
    key: Key,
    *,
    method: str = "POST",
    url: str = INBOX,
    body: bytes | None = BODY,
    now: int = NOW,
) -> dict[str, str]:
    """A whole request's headers as the inbox sees them: lower-cased names."""
    headers = {"content-type": "application/activity+json"} if body is not None else {}
    headers["accept"] = "application/activity+json"
    added = sign_request(
        format=format,
        method=method,
        url=url,
        headers=headers,
        body=body,
        private_key=key,
        key_id=KEY_ID,
        now=now,
    )
    return {
        **headers,
        "host": rfc9421.authority_of(url),
        **{k.lower(): v for k, v in added.items()},
    }


def _parse(
    headers: Mapping[str, str],
    *,
    method: str = "POST",
    url: str = INBOX,
    body: bytes = BODY,
    now: int = NOW,
) -> SignedRequest:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return parse_request_signature(
        method=method, target=target, url=url, headers=headers, body=body, now=now
    )


def _cavage(key: Key, names: list[str], headers: dict[str, str], **params: object) -> str:
    """A hand-made cavage signature over `names`, for requests our signer would never make."""
    algorithm = str(params.get("algorithm", "rsa-sha256"))
    created, expires = params.get("created"), params.get("expires")
    assert created is None or isinstance(created, int)
    assert expires is None or isinstance(expires, int)
    signing_string = httpsig.build_signing_string(
        names, method="POST", target="/inbox", headers=headers, created=created, expires=expires
    )
    signature = httpsig.sign_signing_string(signing_string.encode(), key, algorithm)
    value = httpsig.CavageSignature(KEY_ID, algorithm, tuple(names), signature, created, expires)
    return httpsig.build_signature_header(value)


def _rfc9421(
    key: Key, components: list[str], headers: dict[str, str], params: structured_fields.Params
) -> dict[str, str]:
    """A hand-made RFC 9421 signature; headers gain Signature-Input and Signature."""
    signature_input = rfc9421.SignatureInput(
        tuple(structured_fields.Item(c) for c in components), params
    )
    message = rfc9421.HttpMessage(headers=headers, method="POST", url=INBOX)
    base = rfc9421.build_signature_base(signature_input, message).encode()
    alg = "ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "rsa-v1_5-sha256"
    fields = rfc9421.build_signature_headers(
        "sig1", signature_input, rfc9421.sign_base(base, key, alg)
    )
    return {**headers, **{name.lower(): value for name, value in fields.items()}}


def _post_headers() -> dict[str, str]:
    return {
        "host": "blog.example",
        "date": "Tue, 14 Nov 2023 22:13:20 GMT",  # NOW
        "digest": build_digest_header(BODY),
        "content-digest": "sha-256=:" + build_digest_header(BODY)[len("SHA-256=") :] + ":",
    }


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("format", [CAVAGE, RFC9421])
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_what_we_sign_we_accept(
    format: SignatureFormat,
    method: str,
    kind: str,
    rsa_key: rsa.RSAPrivateKey,
    ed_key: ed25519.Ed25519PrivateKey,
) -> None:
    key: Key = rsa_key if kind == "rsa" else ed_key
    body = BODY if method == "POST" else None
    url = INBOX if method == "POST" else "https://blog.example/users/blog/outbox?page=2"
    headers = _signed(format, key, method=method, url=url, body=body)
    signed = _parse(headers, method=method, url=url, body=body or b"")
    assert signed.format is format
    assert signed.key_id == KEY_ID
    verify_signed_request(signed, key.public_key())
    other = ed25519.Ed25519PrivateKey.generate() if kind == "rsa" else rsa_key
    with pytest.raises(SignatureError):
        verify_signed_request(signed, other.public_key())


def test_cavage_post_covers_what_mastodon_requires(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = _signed(CAVAGE, rsa_key)
    assert headers["date"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert headers["digest"] == build_digest_header(BODY)
    assert headers["host"] == "blog.example"
    parsed = httpsig.parse_signature_header(headers["signature"])
    assert parsed.algorithm == "rsa-sha256"
    assert parsed.headers == ("(request-target)", "host", "date", "digest", "content-type")
    assert headers["signature"].startswith(f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers=')


def test_cavage_get_covers_accept_and_ed25519_says_hs2019(
    ed_key: ed25519.Ed25519PrivateKey,
) -> None:
    headers = _signed(CAVAGE, ed_key, method="GET", body=None)
    assert "digest" not in headers
    parsed = httpsig.parse_signature_header(headers["signature"])
    assert (parsed.algorithm, parsed.headers) == (
        "hs2019",
        ("(request-target)", "host", "date", "accept"),
    )


def test_rfc9421_post_signature_input(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = _signed(RFC9421, rsa_key)
    assert headers["content-digest"].startswith("sha-256=:")
    assert headers["signature-input"] == (
        'sig1=("@method" "@target-uri" "content-digest" "content-type")'
        f';created={NOW};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    assert "date" not in headers


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://blog.example:443/inbox", "blog.example"),
        ("http://localhost:8000/inbox", "localhost:8000"),
        ("HTTPS://Blog.Example/inbox", "blog.example"),
    ],
)
def test_host_header_is_the_authority_with_port_only_when_not_default(url: str, host: str) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    added = sign_request(
        format=CAVAGE, method="GET", url=url, headers={}, body=None, private_key=key,
        key_id=KEY_ID, now=NOW,
    )  # fmt: skip
    assert added["Host"] == host


def test_combine_header_lines() -> None:
    lines = [("Accept", " application/json"), ("Host", "x"), ("ACCEPT", "*/* ")]
    assert combine_header_lines(lines) == {"accept": "application/json, */*", "host": "x"}


# --- published vectors through the façade -----------------------------------------------------

CAVAGE_VECTORS = json.loads((FIXTURES / "cavage-12" / "vectors.json").read_text())
CAVAGE_HEADERS = {n.lower(): v for n, v in CAVAGE_VECTORS["request"]["headers"]}
CAVAGE_URL = "https://example.com/foo?param=value&pet=dog"
CAVAGE_NOW = 1388957500  # Sun, 05 Jan 2014 21:31:40 GMT, the request's Date


def _cavage_public_key() -> rsa.RSAPublicKey:
    pem = (FIXTURES / "cavage-12" / "test-key.public.pem").read_bytes()
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, rsa.RSAPublicKey)
    return key


@pytest.mark.parametrize("field", ["signature", "authorization"])
def test_cavage_c3_is_accepted_as_a_mastodon_style_post(field: str) -> None:
    vector = CAVAGE_VECTORS["tests"][2]
    value = vector["signature_header" if field == "signature" else "authorization_header"]
    headers = {**CAVAGE_HEADERS, field: value}
    signed = _parse(
        headers, url=CAVAGE_URL, body=CAVAGE_VECTORS["request"]["body"].encode(), now=CAVAGE_NOW
    )
    assert (signed.format, signed.key_id, signed.algorithm) == (CAVAGE, "Test", "rsa-sha256")
    assert signed.base == vector["signing_string"].encode()
    verify_signed_request(signed, _cavage_public_key())


@pytest.mark.parametrize(
    ("index", "reason"),
    [(0, r"\(request-target\) not covered by signature"), (1, "digest not covered by signature")],
)
def test_cavage_c1_and_c2_do_not_cover_enough_for_a_post(index: int, reason: str) -> None:
    headers = {**CAVAGE_HEADERS, "signature": CAVAGE_VECTORS["tests"][index]["signature_header"]}
    with pytest.raises(SignatureError, match=reason):
        _parse(headers, url=CAVAGE_URL, body=b'{"hello": "world"}', now=CAVAGE_NOW)


RFC_DOC = json.loads((FIXTURES / "rfc9421" / "vectors.json").read_text())
RFC_REQUEST = RFC_DOC["messages"]["test-request"]
RFC_HEADERS = {n.lower(): v for n, v in RFC_REQUEST["headers"]}
RFC_URL = "https://example.com/foo?param=Value&Pet=dog"
RFC_NOW = 1618884475


def _rfc_vector(vector_id: str) -> dict[str, str]:
    vector = next(v for v in RFC_DOC["vectors"] if v["id"] == vector_id)
    signature = f"{vector['label']}=:{vector['signature_b64']}:"
    return {
        **RFC_HEADERS,
        "signature-input": vector["signature_input_header"],
        "signature": signature,
    }


def test_rfc9421_b23_full_coverage_is_accepted() -> None:
    signed = _parse(
        _rfc_vector("B.2.3"), url=RFC_URL, body=RFC_REQUEST["body"].encode(), now=RFC_NOW
    )
    assert (signed.format, signed.key_id, signed.algorithm) == (RFC9421, "test-key-rsa-pss", None)
    assert signed.created == 1618884473
    pem = (FIXTURES / "rfc9421" / "keys" / "test-key-rsa-pss.public.pem").read_bytes()
    key = serialization.load_pem_public_key(pem)
    verify_signed_request(signed, key)  # no alg: the RSA key allows v1.5 or PSS; this is PSS


@pytest.mark.parametrize(
    ("vector_id", "url", "reason"),
    [  # §3.1 covers @path but not @query, and this URL has a query
        ("sec-3.1", RFC_URL, "target not covered by signature"),
        ("B.2.6", "https://example.com/foo", "content-digest not covered by signature"),
        ("B.2.1", RFC_URL, "@method not covered by signature"),
    ],
)
def test_rfc9421_vectors_that_do_not_cover_enough(vector_id: str, url: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        _parse(_rfc_vector(vector_id), url=url, body=RFC_REQUEST["body"].encode(), now=RFC_NOW)


# --- an independent implementation: http-message-signatures ----------------------------------


@dataclass
class _Request:
    """The message interface http_message_signatures reads and writes."""

    method: str
    url: str
    headers: dict[str, str]


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_what_we_sign_http_message_signatures_verifies(
    kind: str, rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey
) -> None:
    key: Key = rsa_key if kind == "rsa" else ed_key
    algorithm = algorithms.RSA_V1_5_SHA256 if kind == "rsa" else algorithms.ED25519
    now = int(time.time())  # it checks `created` against its own clock
    headers = _signed(RFC9421, key, now=now)
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithm,
        key_resolver=MappingKeyResolver(public_keys={KEY_ID: key.public_key()}, private_keys={}),
    )
    results = verifier.verify(
        _Request("POST", INBOX, headers),
        body=BODY,
        require_components=("@method", "@target-uri", "content-digest"),
    )
    assert [result.label for result in results] == ["sig1"]
    headers["content-digest"] = "sha-256=:" + build_digest_header(b"{}")[8:] + ":"
    with pytest.raises(InvalidSignature):
        verifier.verify(_Request("POST", INBOX, headers), body=BODY)


@pytest.mark.parametrize("algorithm", ["rsa-pss-sha512", "rsa-v1_5-sha256", "ed25519"])
def test_what_http_message_signatures_signs_we_verify(
    algorithm: str, rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey
) -> None:
    their_algorithm = {
        "rsa-pss-sha512": algorithms.RSA_PSS_SHA512,
        "rsa-v1_5-sha256": algorithms.RSA_V1_5_SHA256,
        "ed25519": algorithms.ED25519,
    }[algorithm]
    key: Key = ed_key if algorithm == "ed25519" else rsa_key
    request = _Request("POST", INBOX, {"Host": "blog.example", "Content-Type": "application/json"})
    HTTPMessageSigner(
        signature_algorithm=their_algorithm,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={KEY_ID: key}),
    ).sign(
        request,
        key_id=KEY_ID,
        label="sig1",
        created=datetime.fromtimestamp(NOW, UTC),
        covered_component_ids=("@method", "@authority", "@target-uri", "content-type"),
        body=BODY,
    )
    signed = _parse(combine_header_lines(request.headers.items()))
    assert (signed.algorithm, signed.key_id, signed.created) == (algorithm, KEY_ID, NOW)
    verify_signed_request(signed, key.public_key())
    with pytest.raises(SignatureError, match=r"Content-Digest sha-256 does not match the body"):
        _parse(combine_header_lines(request.headers.items()), body=BODY + b"\n")


# --- the inbound rules refuse -----------------------------------------------------------------


@pytest.mark.parametrize(("format", "field"), [(CAVAGE, "Digest"), (RFC9421, "Content-Digest")])
def test_tampered_body(format: SignatureFormat, field: str, rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureError, match=f"^{field} sha-256 does not match the body$"):
        _parse(_signed(format, rsa_key), body=BODY.replace(b"Follow", b"Block"))


def test_digest_not_covered(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = _post_headers()
    headers["signature"] = _cavage(rsa_key, ["(request-target)", "host", "date"], headers)
    with pytest.raises(SignatureError, match=r"^digest not covered by signature$"):
        _parse(headers)
    signed = _rfc9421(
        rsa_key, ["@method", "@target-uri"], _post_headers(), (("created", NOW), ("keyid", KEY_ID))
    )
    with pytest.raises(SignatureError, match=r"^content-digest not covered by signature$"):
        _parse(signed)


def test_host_not_covered(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = _post_headers()
    headers["signature"] = _cavage(rsa_key, ["(request-target)", "date", "digest"], headers)
    with pytest.raises(SignatureError, match=r"^host not covered by signature$"):
        _parse(headers)
    params: structured_fields.Params = (("created", NOW), ("keyid", KEY_ID))
    signed = _rfc9421(rsa_key, ["@method", "@path", "content-digest"], _post_headers(), params)
    with pytest.raises(SignatureError, match=r"^authority not covered by signature$"):
        _parse(signed)


def test_get_must_cover_host(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = _post_headers()
    headers["signature"] = _cavage(rsa_key, ["(request-target)", "date"], headers)
    with pytest.raises(SignatureError, match=r"^host not covered by signature$"):
        _parse(headers, method="GET", body=b"")


@pytest.mark.parametrize(("format", "stamp"), [(CAVAGE, "date"), (RFC9421, "created")])
def test_stale_and_future_times(
    format: SignatureFormat, stamp: str, rsa_key: rsa.RSAPrivateKey
) -> None:
    _parse(_signed(format, rsa_key, now=NOW - 1800))  # inside the hour of skew
    with pytest.raises(SignatureError, match=f"^{stamp} outside the accepted window$"):
        _parse(_signed(format, rsa_key, now=NOW - 7200))
    with pytest.raises(SignatureError, match=f"^{stamp} is in the future$"):
        _parse(_signed(format, rsa_key, now=NOW + 7200))


def test_expires_extends_up_to_max_age_and_no_further(ed_key: ed25519.Ed25519PrivateKey) -> None:
    def signed(created: int, expires: int) -> dict[str, str]:
        params: structured_fields.Params = (
            ("created", created),
            ("keyid", KEY_ID),
            ("expires", expires),
        )
        return _rfc9421(
            ed_key, ["@method", "@target-uri", "content-digest"], _post_headers(), params
        )

    assert _parse(signed(NOW - 7200, NOW + 60)).created == NOW - 7200
    with pytest.raises(SignatureError, match=r"^signature expired$"):
        _parse(signed(NOW - 60, NOW - 1))
    with pytest.raises(SignatureError, match=r"^signature too old$"):
        _parse(signed(NOW - 13 * 3600, NOW + 60))


def test_cavage_created_and_expires(ed_key: ed25519.Ed25519PrivateKey) -> None:
    names = ["(request-target)", "host", "(created)", "(expires)", "digest"]
    headers = _post_headers()
    headers["signature"] = _cavage(
        ed_key, names, headers, algorithm="hs2019", created=NOW - 60, expires=NOW + 60
    )
    signed = _parse(headers)
    assert signed.created == NOW - 60
    verify_signed_request(signed, ed_key.public_key())
    headers["signature"] = _cavage(
        ed_key, names, headers, algorithm="hs2019", created=NOW - 60, expires=NOW - 1
    )
    with pytest.raises(SignatureError, match=r"^signature expired$"):
        _parse(headers)


def test_a_date_without_a_zone_is_read_as_utc(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = {**_post_headers(), "date": "Tue, 14 Nov 2023 22:13:20 -0000"}
    headers["signature"] = _cavage(rsa_key, ["(request-target)", "host", "date", "digest"], headers)
    verify_signed_request(_parse(headers), rsa_key.public_key())
    with pytest.raises(SignatureError, match=r"^date outside the accepted window$"):
        _parse(headers, now=NOW + 3601)


def test_replay_to_another_host(rsa_key: rsa.RSAPrivateKey) -> None:
    other = "https://other.example/inbox"
    cavage = _signed(CAVAGE, rsa_key)  # signed for blog.example, replayed to other.example
    with pytest.raises(SignatureError, match=r"^host header does not match the request URL$"):
        _parse(cavage, url=other)
    signed = _parse({**cavage, "host": "other.example"}, url=other)
    with pytest.raises(SignatureError, match=r"^signature does not verify$"):
        verify_signed_request(signed, rsa_key.public_key())
    signed = _parse(_signed(RFC9421, rsa_key), url=other)
    with pytest.raises(SignatureError, match=r"^signature does not verify$"):
        verify_signed_request(signed, rsa_key.public_key())


@pytest.mark.parametrize("host", ["alice@blog.example", "blog.example/x", ""])
def test_a_signed_host_must_be_a_plain_authority(host: str, rsa_key: rsa.RSAPrivateKey) -> None:
    headers = {**_post_headers(), "host": host}
    headers["signature"] = _cavage(rsa_key, ["(request-target)", "host", "date", "digest"], headers)
    with pytest.raises(SignatureError, match=r"^host header is not an authority$"):
        _parse(headers)


@pytest.mark.parametrize("format", [CAVAGE, RFC9421])
def test_request_target_changed(format: SignatureFormat, rsa_key: rsa.RSAPrivateKey) -> None:
    signed = _parse(_signed(format, rsa_key), url="https://blog.example/users/blog/inbox")
    with pytest.raises(SignatureError, match=r"^signature does not verify$"):
        verify_signed_request(signed, rsa_key.public_key())


def test_duplicate_parameters(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = _signed(CAVAGE, rsa_key)
    headers["signature"] = f'keyId="https://evil.example/key",{headers["signature"]}'
    with pytest.raises(MalformedError, match=r"duplicate parameter keyId"):
        _parse(headers)
    headers = _signed(RFC9421, rsa_key)
    headers["signature-input"] += ', sig1=("@method");keyid="https://evil.example/key"'
    with pytest.raises(MalformedError, match=r"duplicate key sig1"):
        _parse(headers)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("signature", "garbage", "expected name=value"),
        ("authorization", "Signature ", "expected name=value"),
        ("signature-input", "sig1=(((", "structured field"),
        ("date", "yesterday", "date header is not an HTTP date"),
    ],
)
def test_garbage_headers(field: str, value: str, reason: str, rsa_key: rsa.RSAPrivateKey) -> None:
    headers = _signed(CAVAGE, rsa_key)
    if field == "authorization":
        del headers["signature"]
    headers[field] = value
    with pytest.raises(MalformedError, match=reason):
        _parse(headers)


def test_wrong_algorithm_for_the_key_type(
    rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey
) -> None:
    headers = _post_headers()
    names = ["(request-target)", "host", "date", "digest"]
    headers["signature"] = _cavage(ed_key, names, headers, algorithm="ed25519").replace(
        'algorithm="ed25519"', 'algorithm="rsa-sha256"'
    )
    signed = _parse(headers)
    with pytest.raises(SignatureError, match=r"^algorithm rsa-sha256 does not match an? Ed25519"):
        verify_signed_request(signed, ed_key.public_key())
    signed = _parse(_signed(RFC9421, ed_key))
    assert signed.algorithm == "ed25519"
    with pytest.raises(SignatureError, match=r"^algorithm ed25519 does not match an? RSAPublicKey"):
        verify_signed_request(signed, rsa_key.public_key())


@pytest.mark.parametrize(("format", "field"), [(CAVAGE, "digest"), (RFC9421, "content-digest")])
def test_missing_digest_header(
    format: SignatureFormat, field: str, rsa_key: rsa.RSAPrivateKey
) -> None:
    headers = _signed(format, rsa_key)
    del headers[field]
    with pytest.raises(SignatureError, match=f"^(signed header|covered field) {field} is missing$"):
        _parse(headers)


def test_unsupported_digest_algorithm_only(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = {**_post_headers(), "digest": "MD5=Sf4Hv3hWr2/6QO3lMaMH0A=="}
    headers["signature"] = _cavage(rsa_key, ["(request-target)", "host", "date", "digest"], headers)
    with pytest.raises(
        SignatureError, match=r"^Digest has no supported algorithm \(sha-256, sha-512\)$"
    ):
        _parse(headers)


def test_unsigned_and_half_signed_requests(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureError, match=r"^request is not signed$"):
        _parse({"host": "blog.example", "authorization": "Bearer abc"})
    headers = _signed(RFC9421, rsa_key)
    del headers["signature"]
    with pytest.raises(MalformedError, match=r"Signature-Input without Signature"):
        _parse(headers)


def test_rfc9421_keyid_and_alg(rsa_key: rsa.RSAPrivateKey) -> None:
    components = ["@method", "@target-uri", "content-digest"]
    with pytest.raises(SignatureError, match=r"^signature has no keyid$"):
        _parse(_rfc9421(rsa_key, components, _post_headers(), (("created", NOW),)))
    params: structured_fields.Params = (("created", NOW), ("keyid", KEY_ID), ("alg", "rsa-sha1"))
    with pytest.raises(SignatureError, match=r"^unsupported algorithm rsa-sha1$"):
        _parse(_rfc9421(rsa_key, components, _post_headers(), params))


def test_rfc9421_date_or_created_must_be_covered(rsa_key: rsa.RSAPrivateKey) -> None:
    components = ["@method", "@target-uri", "content-digest"]
    with pytest.raises(SignatureError, match=r"^date or created not covered by signature$"):
        _parse(_rfc9421(rsa_key, components, _post_headers(), (("keyid", KEY_ID),)))
    signed = _parse(
        _rfc9421(rsa_key, [*components, "date", "host"], _post_headers(), (("keyid", KEY_ID),))
    )
    assert signed.created is None
    verify_signed_request(signed, rsa_key.public_key())


def test_with_several_rfc9421_signatures_the_first_is_checked(
    rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey
) -> None:
    first = _signed(RFC9421, ed_key)
    second = _signed(RFC9421, rsa_key)
    headers = {
        **first,
        "signature-input": first["signature-input"]
        + ", "
        + second["signature-input"].replace("sig1=", "proxy="),
        "signature": first["signature"] + ", " + second["signature"].replace("sig1=", "proxy="),
    }
    signed = _parse(headers)
    assert signed.algorithm == "ed25519"
    verify_signed_request(signed, ed_key.public_key())
