"""Key pairs of the local actors: generating, saving as PEM (mode 0600), loading, encoding.

The blog actor has an RSA-2048 key (HTTP signatures: what Mastodon verifies) and an Ed25519 key
(FEP-8b32 object proofs); the instance actor has an RSA key for signed fetches.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from fedipub.errors import ConfigError

RSA_BITS = 2048
BLOG_RSA_FILE = "blog-rsa.pem"
BLOG_ED25519_FILE = "blog-ed25519.pem"
INSTANCE_RSA_FILE = "instance-rsa.pem"
KEY_FILES = (BLOG_RSA_FILE, BLOG_ED25519_FILE, INSTANCE_RSA_FILE)


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
        path = folder / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ConfigError(f"key file {path} exists already; refusing to overwrite it") from None
        with os.fdopen(fd, "wb") as out:
            out.write(private_pem(key))


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
