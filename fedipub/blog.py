"""The local blog as the services see it: its settings, its URLs and its keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedipub.config import Settings
from fedipub.keys import KeySet, load_keyset
from fedipub.proofs import sign_object
from fedipub.urls import Urls


@dataclass(frozen=True)
class Blog:
    settings: Settings
    urls: Urls
    keys: KeySet

    def sign(self, document: dict[str, Any], created: datetime) -> dict[str, Any]:
        """Our activities carry a FEP-8b32 integrity proof by the blog's Ed25519 key, so they
        can be verified wherever they are relayed or fetched from."""
        return sign_object(document, self.keys.blog_ed25519, self.urls.ed25519_key, created)


def urls_for(settings: Settings) -> Urls:
    return Urls(base=settings.base_url, username=settings.username)


def load_blog(settings: Settings) -> Blog:
    return Blog(settings, urls_for(settings), load_keyset(settings.key_folder))
