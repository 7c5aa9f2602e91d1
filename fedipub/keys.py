"""Key pairs of the local actors: generating, saving as PEM (mode 0600), loading, encoding.

The blog actor has an RSA-2048 key (HTTP signatures: what Mastodon verifies) and an Ed25519 key
(FEP-8b32 object proofs); the instance actor has an RSA key for signed fetches.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from fedipub.errors import ConfigError

RSA_BITS = 2048
BLOG_RSA_FILE = "blog-rsa.pem"
BLOG_ED25519_FILE = "blog-ed25519.pem"
INSTANCE_RSA_FILE = "instance-rsa.pem"
KEY_FILES = (BLOG_RSA_FILE, BLOG_ED25519_FILE, INSTANCE_RSA_FILE)
# Rotated-out blog keys: `previous/blog-rsa-<UTC stamp>.pem`, kept for the grace period.
PREVIOUS_DIR = "previous"
_PREVIOUS_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class KeySet:
    """The private keys the server signs with."""

    blog_rsa: rsa.RSAPrivateKey
    blog_ed25519: ed25519.Ed25519PrivateKey
    instance_rsa: rsa.RSAPrivateKey


def generate_keyset() -> KeySet:
    return KeySet(
        blog_rsa=rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS),
        blog_ed25519=ed25519.Ed25519PrivateKey.generate(),
        instance_rsa=rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS),
    )


def private_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def save_keyset(keys: KeySet, folder: Path) -> None:
    """Write the three PEM files, created with mode 0600; refuses to overwrite any of them."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    pairs = (
        (BLOG_RSA_FILE, keys.blog_rsa),
        (BLOG_ED25519_FILE, keys.blog_ed25519),
        (INSTANCE_RSA_FILE, keys.instance_rsa),
    )
    for name, key in pairs:
        _write_new(folder / name, private_pem(key))


def _write_new(path: Path, pem: bytes) -> None:
    """Create `path` with mode 0600 from the start (never readable by others, even briefly)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"key file {path} exists already; refusing to overwrite it") from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def _read_private(path: Path) -> object:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"key file {path} is missing") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"key file {path} is readable by others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise ConfigError(f"key file {path} is not a PEM private key: {exc}") from None


def load_keyset(folder: Path) -> KeySet:
    blog_rsa = _read_private(folder / BLOG_RSA_FILE)
    blog_ed25519 = _read_private(folder / BLOG_ED25519_FILE)
    instance_rsa = _read_private(folder / INSTANCE_RSA_FILE)
    if not isinstance(blog_rsa, rsa.RSAPrivateKey) or not isinstance(
        instance_rsa, rsa.RSAPrivateKey
    ):
        raise ConfigError(f"{folder}: the RSA key files do not hold RSA keys")
    if not isinstance(blog_ed25519, ed25519.Ed25519PrivateKey):
        raise ConfigError(f"{folder / BLOG_ED25519_FILE} does not hold an Ed25519 key")
    return KeySet(blog_rsa=blog_rsa, blog_ed25519=blog_ed25519, instance_rsa=instance_rsa)


@dataclass(frozen=True)
class PreviousKey:
    path: Path
    retired: datetime


def rotate_blog_rsa(folder: Path, now: datetime) -> PreviousKey:
    """Give the blog actor a new RSA key pair. The old private key is kept, mode 0600, in
    `previous/` (so a rotation can be undone within the grace period); the new one replaces
    `blog-rsa.pem` in one rename, so a process starting meanwhile reads one or the other."""
    current = folder / BLOG_RSA_FILE
    if not isinstance(_read_private(current), rsa.RSAPrivateKey):
        raise ConfigError(f"{current} does not hold an RSA key")
    retired = now.astimezone(UTC).replace(microsecond=0)
    previous = folder / PREVIOUS_DIR
    previous.mkdir(mode=0o700, exist_ok=True)
    kept = previous / f"blog-rsa-{retired.strftime(_PREVIOUS_STAMP)}.pem"
    staged = folder / f"{BLOG_RSA_FILE}.new"
    staged.unlink(missing_ok=True)  # left by a rotation that died before its rename
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    _write_new(staged, private_pem(new_key))
    try:
        os.link(current, kept)  # a hard link keeps the file's 0600 mode, and copies nothing
    except FileExistsError:
        staged.unlink()
        raise ConfigError(f"{kept} exists: the key was rotated a moment ago") from None
    os.replace(staged, current)
    return PreviousKey(kept, retired)


def previous_keys(folder: Path) -> list[PreviousKey]:
    """The rotated-out keys in `previous/`, oldest first."""
    found = []
    for path in sorted((folder / PREVIOUS_DIR).glob("blog-rsa-*.pem")):
        stamp = path.stem.removeprefix("blog-rsa-")
        try:
            retired = datetime.strptime(stamp, _PREVIOUS_STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue  # not one of ours: left alone
        found.append(PreviousKey(path, retired))
    return found


def expired_keys(folder: Path, now: datetime, grace_days: int) -> list[PreviousKey]:
    limit = now - timedelta(days=grace_days)
    return [key for key in previous_keys(folder) if key.retired <= limit]
