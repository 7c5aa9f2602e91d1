"""Fetching remote documents, signed by the instance actor, and believing only what their
origin says about itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from fedipub.errors import FetchError
from fedipub.keydocs import strip_fragment
from fedipub.keys import KeySet
from fedipub.signed_http import SignedHttp
from fedipub.urls import Urls
from fedipub.vocab import JRD_JSON


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def check_fetched_id(requested: str, final: str, document: dict[str, Any]) -> str:
    """The document's `id` must be the URL we asked for (Mastodon CVE-2024-23832: a document
    served from one URL claiming another's id), or, after a redirect that stayed on the same
    origin, the URL we ended at. Returns the id."""
    document_id = document.get("id")
    if not isinstance(document_id, str):
        raise FetchError(requested, "the document has no id")
    wanted = strip_fragment(requested)
    if document_id == wanted:
        return document_id
    if final != wanted and _origin(final) == _origin(wanted) and document_id == final:
        return document_id
    raise FetchError(requested, f"the document's id {document_id!r} is not the URL fetched")


class Fetcher:
    """GETs remote AS2 documents signed with the instance actor's key, so that servers in
    authorized-fetch mode answer, and checks that each document is what it claims to be."""

    def __init__(
        self,
        http: SignedHttp,
        keys: KeySet,
        urls: Urls,
        *,
        allow_private: bool = False,
        on_fetch: Callable[[float, bool], None] | None = None,
    ) -> None:
        self._http = http
        self._keys = keys
        self._urls = urls
        self._allow_private = allow_private
        # Told each fetch's duration and success (the server's metrics keep a histogram).
        self._on_fetch = on_fetch

    async def fetch_object(self, url: str) -> dict[str, Any]:
        wanted = strip_fragment(url)
        started = time.perf_counter()
        ok = False
        try:
            final, document = await self._http.fetch_json(
                wanted, self._keys.instance_rsa, self._urls.instance_key
            )
            ok = True
        finally:
            if self._on_fetch is not None:
                self._on_fetch(time.perf_counter() - started, ok)
        check_fetched_id(wanted, final, document)
        return document

    async def resolve_acct(self, user: str, host: str) -> str:
        """The actor URL WebFinger gives for `user@host`, asked of `host` itself."""
        resource = quote(f"acct:{user}@{host}", safe=":@")
        schemes = ("https", "http") if self._allow_private else ("https",)
        last_error: FetchError | None = None
        for scheme in schemes:
            url = f"{scheme}://{host}/.well-known/webfinger?resource={resource}"
            try:
                _, jrd = await self._http.client.fetch_json(url, accept=JRD_JSON)
            except FetchError as exc:
                last_error = exc
                continue
            for link in jrd.get("links", []):
                if (
                    isinstance(link, dict)
                    and link.get("rel") == "self"
                    and isinstance(link.get("href"), str)
                    and str(link.get("type", "")).startswith(
                        ("application/activity+json", "application/ld+json")
                    )
                ):
                    return str(link["href"])
            raise FetchError(url, "WebFinger names no ActivityPub actor")
        assert last_error is not None
        raise last_error
