"""The project's exceptions, as one small tree.

    FedipubError
    ├── ConfigError            settings, data folder or key files unusable (CLI: one line, exit 2)
    ├── SourceError            an article file is unusable (bad front matter, bad slug)
    ├── ProtocolError          a remote peer sent something we refuse; carries an HTTP status
    │   ├── MalformedError         400: not JSON, wrong shape, bad header syntax
    │   ├── TooLargeError          413: body over the cap
    │   ├── SignatureError         401: missing, invalid, stale or uncovering signature
    │   ├── ActorMismatchError     401: the signer is not the activity's actor
    │   ├── ForbiddenError         403: blocked, or acting on what it does not own
    │   └── RateLimitedError       429: one host sending too much
    ├── FetchError             an outbound GET failed (network, status, type, size)
    │   └── UnsafeURLError         the SSRF guard refused the address
    ├── DeliveryError          an outbound POST failed
    └── StoreError             the database refused
        ├── NotFoundError          no such row
        └── ConflictError          the row exists already

Foreign exceptions (httpx, sqlite3, yaml, cryptography) are translated into these at the edge
where they happen; routes turn ProtocolError into a response in one place.
"""

from __future__ import annotations


class FedipubError(Exception):
    """Base of every error fedipub raises on purpose."""


class ConfigError(FedipubError):
    """The settings, the data folder or the key files cannot be used."""


class SourceError(FedipubError):
    """An article source file cannot be published as it is."""


class ProtocolError(FedipubError):
    """A peer's request is refused; `status` is the HTTP status to answer with."""

    status: int = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedError(ProtocolError):
    status = 400


class TooLargeError(ProtocolError):
    status = 413


class SignatureError(ProtocolError):
    status = 401


class ActorMismatchError(ProtocolError):
    status = 401


class ForbiddenError(ProtocolError):
    status = 403


class RateLimitedError(ProtocolError):
    status = 429

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class FetchError(FedipubError):
    """An outbound GET did not produce a usable document."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class UnsafeURLError(FetchError):
    """The URL or the address it resolves to is not one we may connect to."""


class DeliveryError(FedipubError):
    """An outbound POST was not accepted."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class StoreError(FedipubError):
    """The database refused an operation."""


class NotFoundError(StoreError):
    """The row asked for does not exist."""


class ConflictError(StoreError):
    """The row to create exists already."""
