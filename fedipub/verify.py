"""Who signed an inbound request: the signature checked, the key fetched through the guarded
client, and its owner confirmed by the owner's own document.

Nothing is processed on behalf of a request before `Verifier.verify` returns a `Verified`
(Fedify CVE-2025-54888); the only work done for an unverified request is the one key fetch.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fedipub.errors import FetchError, MalformedError, SignatureError
from fedipub.fetch import Fetcher
from fedipub.keydocs import (
    PublicKey,
    PublishedKey,
    find_key,
    is_actor,
    load_public_pem,
    parse_published_keys,
    public_key_pem,
)
from fedipub.signatures import parse_request_signature, verify_signed_request
from fedipub.store import Store
from fedipub.store.remote import CachedActor, CachedKey
from fedipub.webfinger import parse_acct

# A key that fails to verify is fetched again (it may have been rotated), but not more often
# than this per key, so forged requests cannot make us fetch on every request.
REFETCH_COOLDOWN = 300.0
_MEMORY_KEYS = 4096


@dataclass(frozen=True)
class Verified:
    """The signer of a request, proven: the actor whose document lists the key."""

    actor_id: str
    key_id: str


@dataclass(frozen=True)
class InboundRequest:
    """A request as plain values. `url` is this server's public URL for it (from settings,
    not from the Host header) and `headers` have lower-case names, repeated fields joined."""

    method: str
    target: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    # The sending server's address (the proxy's X-Forwarded-For when it is trusted).
    client: str = ""


@dataclass(frozen=True)
class RemoteKey:
    key_id: str
    owner: str
    public_key: PublicKey
    from_cache: bool


class KeyResolver:
    """keyId → key and proven owner; cached in memory and in the database."""

    def __init__(self, store: Store, fetcher: Fetcher, *, clock: Callable[[], float]) -> None:
        self._store = store
        self._fetcher = fetcher
        self._clock = clock
        self._memory: OrderedDict[str, RemoteKey] = OrderedDict()
        self._last_refetch: OrderedDict[str, float] = OrderedDict()

    async def get(self, key_id: str) -> RemoteKey:
        cached = self._memory.get(key_id)
        if cached is not None:
            self._memory.move_to_end(key_id)
            return replace(cached, from_cache=True)
        stored = await self._store.remote_keys.find(key_id)
        if stored is not None:
            public_key = load_public_pem(stored.public_key_pem)
            key = RemoteKey(stored.key_id, stored.owner, public_key, from_cache=True)
            self._remember(key)
            return key
        return await self._fetch(key_id)

    def may_refetch(self, key_id: str) -> bool:
        last = self._last_refetch.get(key_id)
        return last is None or self._clock() - last >= REFETCH_COOLDOWN

    async def refetch(self, key_id: str) -> RemoteKey:
        self._last_refetch[key_id] = self._clock()
        while len(self._last_refetch) > _MEMORY_KEYS:
            self._last_refetch.popitem(last=False)
        self._memory.pop(key_id, None)
        return await self._fetch(key_id)

    def _remember(self, key: RemoteKey) -> None:
        self._memory[key.key_id] = key
        while len(self._memory) > _MEMORY_KEYS:
            self._memory.popitem(last=False)

    async def _fetch(self, key_id: str) -> RemoteKey:
        try:
            if key_id.startswith("acct:"):
                owner, published = await self._key_of_acct(key_id)
            else:
                owner, published = await self._key_of_url(key_id)
        except (FetchError, MalformedError) as exc:
            raise SignatureError(f"cannot use key {key_id}: {exc}") from None
        key = RemoteKey(key_id, owner, published.public_key, from_cache=False)
        now = datetime.fromtimestamp(self._clock(), UTC)
        await self._store.remote_keys.save(
            CachedKey(key_id, owner, public_key_pem(published.public_key), now)
        )
        self._remember(key)
        return key

    async def _actor(self, url: str) -> dict[str, object]:
        document = await self._fetcher.fetch_object(url)
        if not is_actor(document):
            raise MalformedError(f"{url} is not an actor")
        now = datetime.fromtimestamp(self._clock(), UTC)
        await self._store.remote_actors.save(CachedActor(url, document, now))
        return document

    async def _key_of_url(self, key_id: str) -> tuple[str, PublishedKey]:
        document = await self._fetcher.fetch_object(key_id)
        if is_actor(document):
            owner = str(document["id"])
            key = find_key(document, key_id)
            if key is None:
                raise MalformedError(f"the actor {owner} does not list the key")
            if key.claimed_owner not in (None, owner):
                raise MalformedError("the key names another owner than the actor listing it")
            now = datetime.fromtimestamp(self._clock(), UTC)
            await self._store.remote_actors.save(CachedActor(owner, document, now))
            return owner, key
        # A standalone key document: its `owner` is only a claim until the owner's own
        # document lists this very key (Fedify CVE-2026-96625).
        claimed = find_key(document, key_id)
        if claimed is None or claimed.claimed_owner is None:
            raise MalformedError("the key document names no owner")
        owner = claimed.claimed_owner
        listed = find_key(await self._actor(owner), key_id)
        if listed is None or public_key_pem(listed.public_key) != public_key_pem(
            claimed.public_key
        ):
            raise MalformedError(f"the claimed owner {owner} does not list the key")
        return owner, listed

    async def _key_of_acct(self, key_id: str) -> tuple[str, PublishedKey]:
        acct = parse_acct(key_id)
        if acct is None:
            raise MalformedError("keyId is not a valid acct: URI")
        user, host = acct
        actor_url = await self._fetcher.resolve_acct(user, host)
        # WebFinger asked of `host` may only name an actor on `host` itself.
        if urlsplit(actor_url).netloc.lower() != host.lower():
            raise MalformedError("WebFinger named an actor on another host")
        document = await self._actor(actor_url)
        keys = parse_published_keys(document)
        if not keys:
            raise MalformedError(f"the actor {actor_url} publishes no key")
        return actor_url, keys[0]


class Verifier:
    def __init__(
        self,
        keys: KeyResolver,
        *,
        clock: Callable[[], float] = time.time,
        max_skew: int = 3600,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._max_skew = max_skew

    async def resolve_key(self, key_id: str) -> RemoteKey:
        """A key and its proven owner (for LD signatures on forwarded activities)."""
        return await self._keys.get(key_id)

    async def verify(self, request: InboundRequest) -> Verified:
        try:
            signed = parse_request_signature(
                method=request.method,
                target=request.target,
                url=request.url,
                headers=request.headers,
                body=request.body,
                now=int(self._clock()),
                max_skew=self._max_skew,
            )
        except MalformedError as exc:
            # Still a 401: senders that double-knock retry the other format on it.
            raise SignatureError(exc.reason) from None
        key = await self._keys.get(signed.key_id)
        try:
            verify_signed_request(signed, key.public_key)
        except SignatureError:
            if not key.from_cache or not self._keys.may_refetch(signed.key_id):
                raise
            key = await self._keys.refetch(signed.key_id)
            verify_signed_request(signed, key.public_key)
        return Verified(actor_id=key.owner, key_id=signed.key_id)
