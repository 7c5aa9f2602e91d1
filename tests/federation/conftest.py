"""Federation fixtures: a blog and a peer on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.keys import KeySet
from tests.federation.worlds import World, running_world


@pytest.fixture(scope="session")
def peer_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def world(tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey) -> Iterator[World]:
    with running_world(tmp_path, keyset, peer_key) as built:
        yield built


@pytest.fixture
def guarded(tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey) -> Iterator[World]:
    """The blog with the SSRF guard on, as in production."""
    with running_world(tmp_path, keyset, peer_key, allow_private_addresses=False) as built:
        yield built
