"""The admin's authentication: scrypt password hashes, sessions, CSRF tokens and the login
rate limit.

The helpers at the top are pure (hashing, tokens, comparisons, the rate-limit policy); the
`AdminAuth` service below them applies them to the store. Secrets are compared with
`hmac.compare_digest`, so how long a comparison takes says nothing of how much matched.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import math
import secrets
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from urllib.parse import urlsplit

from fedipub.errors import ConfigError
from fedipub.store import Store
from fedipub.store.admin import StoredSession

MIN_PASSWORD_LENGTH = 12
# scrypt at N=2^15, r=8, p=1 needs 32 MiB and ~0.1 s per hash (RFC 7914 §2; OWASP's password
# storage cheat sheet lists N=2^15..2^17 with r=8, p=1). The parameters travel in the stored
# string, so raising them later leaves existing hashes verifiable.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_SCHEME = "scrypt"
TOKEN_BYTES = 32
LOGIN_FAILURES_ALLOWED = 5
LOGIN_WINDOW = timedelta(minutes=15)
_CSRF_LABEL = b"fedipub admin csrf"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # OpenSSL refuses above 32 MiB by default; the work needs 128·n·r·p bytes, plus slack.
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * n * r * p,
        dklen=length,
    )


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$hash`, with a fresh random salt unless one is given (tests)."""
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, _HASH_BYTES)
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` is the one `encoded` was made from; False for a malformed string."""
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        return False
    try:
        n, r, p = (int(part) for part in parts[1:4])
        salt, expected = _unb64(parts[4]), _unb64(parts[5])
        # Bounds keep a corrupted row from asking for gigabytes of memory.
        if not (2 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16 and 16 <= len(expected) <= 64):
            return False
        actual = _scrypt(password, salt, n, r, p, len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"the admin password must be at least {MIN_PASSWORD_LENGTH} characters")
    return password


def new_token() -> str:
    """A session token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What the database keeps of a session token: a copy of it opens no session."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(session_token: str) -> str:
    """The session's CSRF token, derived from its secret token: per session, nothing to store,
    and knowing it tells nothing of the cookie."""
    return hmac.new(session_token.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


def csrf_matches(expected: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def same_origin(origin: str | None, referer: str | None, host: str) -> bool:
    """Whether a POST comes from the blog's own pages (OWASP CSRF cheat sheet: verify the
    source origin). Origin wins over Referer; "null" (sandboxed frames, some redirects) is
    refused. Neither header present is allowed: some privacy tools strip both, and the CSRF
    token is still required."""
    claimed = origin if origin is not None else referer
    if claimed is None:
        return True
    if claimed == "null":
        return False
    return urlsplit(claimed).netloc.lower() == host.lower()


def client_key(address: str | None) -> str:
    """Whom the login limit counts: an IPv4 address, or an IPv6 /64 (one subscriber usually
    holds a whole /64, so counting single addresses would not limit anyone)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def login_retry_after(
    failures: Sequence[datetime],
    now: datetime,
    *,
    allowed: int = LOGIN_FAILURES_ALLOWED,
    window: timedelta = LOGIN_WINDOW,
) -> int:
    """Seconds until one more attempt is allowed: 0 while fewer than `allowed` failures fall in
    the last `window`; else until the oldest of the latest `allowed` leaves it."""
    recent = sorted(moment for moment in failures if moment > now - window)
    if len(recent) < allowed:
        return 0
    return max(1, math.ceil((recent[-allowed] + window - now).total_seconds()))


class LoginOutcome(Enum):
    OK = "ok"
    WRONG = "wrong"
    LIMITED = "limited"
    UNSET = "unset"  # no admin password yet


@dataclass(frozen=True)
class Session:
    token: str  # the secret, as the cookie carries it
    expires: datetime

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    session: Session | None = None
    retry_after: int = 0


@dataclass(frozen=True)
class AdminAuth:
    """Logging in and out, and finding the session a cookie names. `executor` runs scrypt
    (~0.1 s of CPU) off the event loop."""

    store: Store
    executor: Executor
    session_hours: int

    async def has_password(self) -> bool:
        return await self.store.admin.password_hash() is not None

    async def login(self, password: str, client: str, now: datetime) -> LoginResult:
        stored = await self.store.admin.password_hash()
        if stored is None:
            return LoginResult(LoginOutcome.UNSET)
        # The attempt counts as a failure before the password is checked, in the same
        # transaction as the count: parallel guesses cannot all slip under the limit.
        async with self.store.transaction() as tx:
            await self.store.admin.prune_login_failures(tx, now - LOGIN_WINDOW)
            failures = await self.store.admin.login_failures(tx, client)
            wait = login_retry_after(failures, now)
            if not wait:
                await self.store.admin.add_login_failure(tx, client, now)
        if wait:
            return LoginResult(LoginOutcome.LIMITED, retry_after=wait)
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(self.executor, verify_password, password, stored):
            return LoginResult(LoginOutcome.WRONG)
        await self.store.admin.clear_login_failures(client)
        token = new_token()
        expires = now + timedelta(hours=self.session_hours)
        await self.store.admin.add_session(StoredSession(token_digest(token), now, expires), now)
        return LoginResult(LoginOutcome.OK, Session(token, expires))

    async def session(self, token: str | None, now: datetime) -> Session | None:
        if not token:
            return None
        stored = await self.store.admin.find_session(token_digest(token))
        if stored is None or stored.expires <= now:
            return None
        return Session(token, stored.expires)

    async def logout(self, session: Session) -> None:
        await self.store.admin.remove_session(token_digest(session.token))
