"""Driving the admin web in tests: the password set through the command line, logging in,
submitting forms with their CSRF token, and looking at the blog's database beside the server."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.app import create_app
from fedipub.cli import main
from fedipub.config import Settings
from fedipub.keys import KeySet
from fedipub.store import Store, open_store
from fedipub.store.deliveries import ActivityProgress
from tests.blogs import drain_deliveries, make_blog
from tests.federation.worlds import World, running_world
from tests.servers import free_port, serve

T = TypeVar("T")
PASSWORD = "correct horse battery staple"


def set_password(blog: Settings, password: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "stdin", _Stdin(f"{password}\n"))
    return main(["admin-password", "--data", str(blog.data_dir)])


class _Stdin:
    """A pipe, not a terminal: the command reads the password's line from it."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines(keepends=True)

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        return self._lines.pop(0) if self._lines else ""


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def login(http: httpx.Client, password: str = PASSWORD, **extra: str) -> httpx.Response:
    return http.post("/admin/login", data={"password": password, **extra})


def run_store(blog: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Run `work(store)` on the blog's database, beside the running server (WAL)."""

    async def run() -> T:
        store = await open_store(blog.database_path)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def deliver(blog: Settings) -> int:
    """Drain the delivery queue once: the blog's own worker is off in these tests."""
    return drain_deliveries(blog)


def queued(blog: Settings, kind: str) -> list[ActivityProgress]:
    recent = run_store(blog, lambda store: store.deliveries.recent(50))
    return [a for a in recent if a.activity_type == kind]


def loopback_blog(root: Path, keyset: KeySet, *, scheme: str = "http") -> Settings:
    """A blog whose domain is the loopback port it will be served on, so that its own pages
    are same-origin. Over plain http its session cookie is not `Secure`, and httpx sends it
    back."""
    port = free_port()
    return make_blog(root, keyset, domain=f"127.0.0.1:{port}", scheme=scheme)


@contextmanager
def serving_admin(
    blog: Settings, monkeypatch: pytest.MonkeyPatch, *, logged_in: bool
) -> Iterator[httpx.Client]:
    """The blog served, with an admin password; the client logged in or not."""
    assert set_password(blog, PASSWORD, monkeypatch) == 0
    port = int(blog.domain.rsplit(":", 1)[1])
    with serve(create_app(blog), port=port) as base, httpx.Client(base_url=base) as http:
        if logged_in:
            assert login(http).status_code == 303
        yield http


@contextmanager
def admin_world(
    root: Path,
    keyset: KeySet,
    key: rsa.RSAPrivateKey,
    monkeypatch: pytest.MonkeyPatch,
    **settings: Any,
) -> Iterator[tuple[World, httpx.Client]]:
    """A blog with an article, a fediverse peer, and the admin logged in to the blog."""
    with running_world(root, keyset, key, delivery_worker=False, **settings) as world:
        assert set_password(world.blog, PASSWORD, monkeypatch) == 0
        with httpx.Client(base_url=world.base) as http:
            assert login(http).status_code == 303
            yield world, http


def post_action(http: httpx.Client, page: str, action: str, data: dict[str, str]) -> httpx.Response:
    """Submit a form of `page` as the browser would: with the page's CSRF token."""
    token = csrf_of(http.get(page).text)
    return http.post(action, data={"csrf": token, **data})
