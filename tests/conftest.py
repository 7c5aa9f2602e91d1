"""Fixtures shared by every test: a blog in a temporary data folder, served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fedipub.app import create_app
from fedipub.config import Settings
from fedipub.keys import KeySet, generate_keyset
from tests.blogs import make_blog
from tests.servers import serve


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def keyset() -> KeySet:
    """RSA generation is slow; one key set serves every test blog."""
    return generate_keyset()


@pytest.fixture
def blog(tmp_path: Path, keyset: KeySet) -> Settings:
    return make_blog(tmp_path / "data", keyset)


@pytest.fixture
def client(blog: Settings) -> Iterator[httpx.Client]:
    """An HTTP client talking to the blog served by uvicorn on 127.0.0.1."""
    with serve(create_app(blog)) as base_url, httpx.Client(base_url=base_url) as http:
        yield http
