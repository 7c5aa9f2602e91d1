"""Remote actors by id: from the cache when fresh, else fetched (signed) from their origin."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fedipub.errors import FetchError, MalformedError
from fedipub.fetch import Fetcher
from fedipub.parse import RemoteActor, parse_actor
from fedipub.store import Store
from fedipub.store.remote import CachedActor
from fedipub.types import MentionTarget, Person

# How long a cached actor document is used before it is fetched again. Update{Person}
# refreshes it sooner.
ACTOR_TTL = 24 * 3600.0
PARSED_ACTORS = 4096
log = logging.getLogger("fedipub.actors")


def person_of(actor: RemoteActor) -> Person:
    return Person(
        id=actor.id,
        name=actor.display_name,
        handle=actor.handle,
        avatar=actor.avatar_url,
        url=actor.profile_url,
    )


class ActorDirectory:
    def __init__(
        self, store: Store, fetcher: Fetcher, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._fetcher = fetcher
        self._clock = clock
        # The last parse of each cached document: the store answers the same CachedActor
        # object while it holds it in memory, and the inbox asks for the actor of every
        # activity (bench/inbox.py: parsing it again was ~6% of a reply's cost).
        self._parsed: OrderedDict[str, tuple[CachedActor, RemoteActor]] = OrderedDict()

    async def get(self, actor_id: str, *, refresh: bool = False) -> RemoteActor:
        """The actor, validated; FetchError or MalformedError when it cannot be had."""
        cached = await self._store.remote_actors.find(actor_id)
        now = self._clock()
        if cached is not None and not refresh and now - cached.fetched_at.timestamp() < ACTOR_TTL:
            return self._parse(cached)
        document = await self._fetcher.fetch_object(actor_id)
        actor = parse_actor(document)
        if actor.id != actor_id:
            raise MalformedError(f"{actor_id} serves the actor {actor.id}")
        await self._store.remote_actors.save(
            CachedActor(actor_id, document, datetime.fromtimestamp(now, UTC))
        )
        return actor

    def _parse(self, cached: CachedActor) -> RemoteActor:
        parsed = self._parsed.get(cached.id)
        if parsed is not None and parsed[0] is cached:
            self._parsed.move_to_end(cached.id)
            return parsed[1]
        actor = parse_actor(cached.document)
        self._parsed[cached.id] = (cached, actor)
        while len(self._parsed) > PARSED_ACTORS:
            self._parsed.popitem(last=False)
        return actor


async def resolve_mentions(
    actors: ActorDirectory, fetcher: Fetcher, accts: Iterable[str]
) -> tuple[list[MentionTarget], list[str]]:
    """`user@host` handles → the accounts, through WebFinger on each host; the handles that
    could not be resolved come back second, for the caller to report."""
    resolved: list[MentionTarget] = []
    failed: list[str] = []
    for acct in accts:
        user, _, host = acct.partition("@")
        try:
            actor = await actors.get(await fetcher.resolve_acct(user, host))
        except (FetchError, MalformedError) as exc:
            log.info("cannot resolve @%s: %s", acct, exc)
            failed.append(acct)
            continue
        if urlsplit(actor.id).netloc.lower() != host.lower():
            failed.append(acct)  # WebFinger on one host may only name its own accounts
            continue
        resolved.append(
            MentionTarget(
                acct=acct,
                actor_id=actor.id,
                profile_url=actor.profile_url,
                inbox=actor.shared_inbox or actor.inbox,
            )
        )
    return resolved, failed
