"""What the web layer is handed at start-up: settings, store, keys, the outbound client and
the documents built once from them. Built in the app's lifespan, never at import time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fedipub import __version__
from fedipub.activities import build_actor, build_instance_actor
from fedipub.blog import Blog, urls_for
from fedipub.client import ClientSettings, GuardedClient
from fedipub.config import Settings
from fedipub.fetch import Fetcher
from fedipub.keys import KeySet, public_pem
from fedipub.multikey import encode_ed25519_multikey
from fedipub.signed_http import FormatMemory, SignedHttp
from fedipub.store import Store
from fedipub.urls import Urls
from fedipub.verify import KeyResolver, Verifier


@dataclass(frozen=True)
class Services:
    settings: Settings
    urls: Urls
    store: Store
    keys: KeySet
    blog: Blog
    actor: dict[str, Any]
    instance_actor: dict[str, Any]
    client: GuardedClient
    http: SignedHttp
    fetcher: Fetcher
    verifier: Verifier

    async def aclose(self) -> None:
        await self.client.aclose()


def user_agent(settings: Settings) -> str:
    return f"fedipub/{__version__} (+{settings.base_url}/)"


def build_services(
    settings: Settings,
    store: Store,
    keys: KeySet,
    *,
    clock: Callable[[], float] = time.time,
) -> Services:
    urls = urls_for(settings)
    published = (
        datetime.fromisoformat(settings.created)
        if settings.created
        else datetime.fromtimestamp(0, UTC)
    )
    actor = build_actor(
        settings,
        urls,
        public_key_pem=public_pem(keys.blog_rsa.public_key()),
        ed25519_multikey=encode_ed25519_multikey(keys.blog_ed25519.public_key()),
        published=published,
    )
    instance_actor = build_instance_actor(
        settings, urls, public_key_pem=public_pem(keys.instance_rsa.public_key())
    )
    client = GuardedClient(
        ClientSettings(
            user_agent=user_agent(settings),
            allow_private_addresses=settings.allow_private_addresses,
        )
    )
    http = SignedHttp(client, FormatMemory(), clock=clock)
    fetcher = Fetcher(http, keys, urls, allow_private=settings.allow_private_addresses)
    verifier = Verifier(
        KeyResolver(store, fetcher, clock=clock),
        clock=clock,
        max_skew=settings.signature_window,
    )
    return Services(
        settings,
        urls,
        store,
        keys,
        Blog(settings, urls, keys),
        actor,
        instance_actor,
        client,
        http,
        fetcher,
        verifier,
    )
