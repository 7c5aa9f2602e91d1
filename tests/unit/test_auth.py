"""The admin's authentication helpers: scrypt hashes (against RFC 7914's vector), tokens,
CSRF and origin checks, and the login rate limit's window."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from fedipub.auth import (
    LOGIN_FAILURES_ALLOWED,
    LOGIN_WINDOW,
    MIN_PASSWORD_LENGTH,
    check_new_password,
    client_key,
    csrf_matches,
    csrf_token,
    hash_password,
    login_retry_after,
    new_token,
    same_origin,
    token_digest,
    verify_password,
)
from fedipub.errors import ConfigError

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def test_rfc_7914_vector_verifies() -> None:
    # RFC 7914 §12, the second vector: scrypt("password", "NaCl", N=1024, r=8, p=16, 64).
    expected = bytes.fromhex(
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
        "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
    )
    encoded = f"scrypt$1024$8$16${_b64(b'NaCl')}${_b64(expected)}"
    assert verify_password("password", encoded)
    assert not verify_password("Password", encoded)


def test_a_hash_verifies_its_password_only() -> None:
    encoded = hash_password("correct horse battery staple")
    assert encoded.startswith("scrypt$32768$8$1$")
    assert verify_password("correct horse battery staple", encoded)
    assert not verify_password("correct horse battery stapl", encoded)
    assert not verify_password("", encoded)


def test_each_hash_has_its_own_salt() -> None:
    first, second = hash_password("same password!"), hash_password("same password!")
    assert first != second
    assert verify_password("same password!", first)
    assert verify_password("same password!", second)


def test_a_given_salt_gives_the_same_hash() -> None:
    assert hash_password("same password!", salt=b"0" * 16) == hash_password(
        "same password!", salt=b"0" * 16
    )


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "bcrypt$2b$12$whatever",
        "scrypt$1024$8$16$bmFDbA",
        "scrypt$x$8$1$bmFDbA$AAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$1073741824$8$1$bmFDbA$AAAAAAAAAAAAAAAAAAAAAA",  # 2^30: gigabytes of memory
        "scrypt$1024$8$1$bmFDbA$AAAA",  # a key too short to mean anything
        "scrypt$1024$8$1$!!!$AAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_a_malformed_hash_verifies_nothing(encoded: str) -> None:
    assert not verify_password("password", encoded)


def test_new_passwords_need_twelve_characters() -> None:
    assert MIN_PASSWORD_LENGTH == 12
    with pytest.raises(ConfigError, match="at least 12 characters"):
        check_new_password("elevenchars")
    assert check_new_password("twelve chars") == "twelve chars"


def test_tokens_are_32_random_bytes_stored_as_their_digest() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in token_digest(token)


def test_the_csrf_token_is_per_session_and_compared_whole() -> None:
    session, other = new_token(), new_token()
    token = csrf_token(session)
    assert token == csrf_token(session)
    assert token != csrf_token(other)
    assert session not in token
    assert csrf_matches(token, token)
    assert not csrf_matches(token, csrf_token(other))
    assert not csrf_matches(token, token[:-1])
    assert not csrf_matches(token, None)
    assert not csrf_matches(token, "")
    assert not csrf_matches(token, "é" * 64)  # not ASCII: refused, not an exception


@pytest.mark.parametrize(
    ("origin", "referer", "allowed"),
    [
        ("https://blog.example", None, True),
        ("https://BLOG.example", None, True),
        ("https://evil.example", None, False),
        ("https://blog.example.evil.example", None, False),
        ("https://blog.example:8443", None, False),
        ("null", None, False),
        # Origin wins: a same-site Referer does not excuse a foreign Origin.
        ("https://evil.example", "https://blog.example/admin/comments", False),
        (None, "https://blog.example/admin/comments", True),
        (None, "https://evil.example/admin/comments", False),
        (None, None, True),
    ],
)
def test_same_origin(origin: str | None, referer: str | None, allowed: bool) -> None:
    assert same_origin(origin, referer, "blog.example") is allowed


def test_same_origin_with_a_port() -> None:
    assert same_origin("http://127.0.0.1:8000", None, "127.0.0.1:8000")
    assert not same_origin("http://127.0.0.1:8001", None, "127.0.0.1:8000")


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        (None, "unknown"),
        ("not an address", "unknown"),
    ],
)
def test_client_key(address: str | None, key: str) -> None:
    assert client_key(address) == key


def _failures(*minutes_ago: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes_ago]


def test_fewer_failures_than_allowed_do_not_limit() -> None:
    assert LOGIN_FAILURES_ALLOWED == 5
    assert timedelta(minutes=15) == LOGIN_WINDOW
    assert login_retry_after([], NOW) == 0
    assert login_retry_after(_failures(1, 2, 3, 4), NOW) == 0


def test_the_fifth_failure_in_the_window_limits_until_the_oldest_leaves_it() -> None:
    # The oldest of the five left 10 minutes ago: 5 more minutes to wait.
    assert login_retry_after(_failures(10, 4, 3, 2, 1), NOW) == 300
    assert login_retry_after(_failures(0, 0, 0, 0, 0), NOW) == 900


def test_failures_older_than_the_window_do_not_count() -> None:
    assert login_retry_after(_failures(15, 16, 30, 1, 2, 3, 4), NOW) == 0


def test_only_the_latest_failures_set_the_wait() -> None:
    # Seven in the window: the wait ends when the fifth newest (12 minutes ago) leaves it.
    assert login_retry_after(_failures(14, 13, 12, 3, 2, 1, 0.5), NOW) == 180


def test_the_wait_is_never_zero_while_limited() -> None:
    failures = [NOW - LOGIN_WINDOW + timedelta(milliseconds=1), *_failures(1, 1, 1, 1)]
    assert login_retry_after(failures, NOW) == 1
