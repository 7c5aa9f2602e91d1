"""What the web layer is handed at start-up: settings, store, keys and the documents built
once from them. Built in the app's lifespan, never at import time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fedipub.activities import build_actor, build_instance_actor
from fedipub.config import Settings
from fedipub.keys import KeySet, public_pem
from fedipub.multikey import encode_ed25519_multikey
from fedipub.store import Store
from fedipub.urls import Urls


@dataclass(frozen=True)
class Services:
    settings: Settings
    urls: Urls
    store: Store
    keys: KeySet
    actor: dict[str, Any]
    instance_actor: dict[str, Any]


def urls_for(settings: Settings) -> Urls:
    return Urls(base=settings.base_url, username=settings.username)


def build_services(settings: Settings, store: Store, keys: KeySet) -> Services:
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
    return Services(settings, urls, store, keys, actor, instance_actor)
