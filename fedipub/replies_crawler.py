"""Finding the replies that never reached our inbox: a reply to a comment goes to the
comment's author and their followers, not to us. Each stored comment's `replies` collection
is read from its origin, within bounds (depth, pages, items, requests per host)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fedipub.actors import ActorDirectory, person_of
from fedipub.blog import Blog
from fedipub.errors import FetchError, MalformedError
from fedipub.fetch import Fetcher
from fedipub.handlers.comments import blocked_keyword, comment_of, state_for
from fedipub.parse import ids_of, origin_of, parse_note, same_origin
from fedipub.ratelimit import RateLimiter
from fedipub.store import Store
from fedipub.types import Comment

log = logging.getLogger("fedipub.replies")


@dataclass(frozen=True)
class CrawlLimits:
    max_depth: int = 3  # replies of replies of replies
    max_pages: int = 3  # collection pages read per comment
    max_items: int = 40  # replies taken per comment
    max_comments: int = 50  # stored comments whose replies are read per crawl
    per_host_rate: float = 2.0  # requests per second to one host
    per_host_burst: int = 20


class RepliesCrawler:
    def __init__(
        self,
        store: Store,
        blog: Blog,
        fetcher: Fetcher,
        actors: ActorDirectory,
        *,
        clock: Callable[[], float],
        limits: CrawlLimits = CrawlLimits(),
    ) -> None:
        self._store = store
        self._blog = blog
        self._fetcher = fetcher
        self._actors = actors
        self._clock = clock
        self._limits = limits
        self._limiter = RateLimiter(limits.per_host_rate, limits.per_host_burst, clock)

    async def crawl(self) -> int:
        """Read the replies of the most recent comments; returns how many were added."""
        added = 0
        for comment in await self._store.comments.with_replies_to_crawl(self._limits.max_comments):
            added += await self._crawl_comment(comment, depth=1)
        return added

    def _allowed(self, url: str) -> bool:
        return self._limiter.acquire(origin_of(url)) == 0

    async def _fetch(self, url: str) -> dict[str, Any] | None:
        if not self._allowed(url):
            return None
        try:
            return await self._fetcher.fetch_object(url)
        except (FetchError, MalformedError) as exc:
            log.info("cannot read %s: %s", url, exc)
            return None

    async def _reply_ids(self, collection_url: str) -> list[str]:
        found: list[str] = []
        collection = await self._fetch(collection_url)
        page: Any = collection.get("first") if collection else None
        for _ in range(self._limits.max_pages):
            if isinstance(page, str):
                page = await self._fetch(page)
            if not isinstance(page, dict):
                break
            items = page.get("orderedItems", page.get("items"))
            found.extend(ids_of(items))
            if len(found) >= self._limits.max_items:
                break
            page = page.get("next")
        return found[: self._limits.max_items]

    async def _crawl_comment(self, parent: Comment, depth: int) -> int:
        if parent.replies_collection is None or depth > self._limits.max_depth:
            return 0
        added = 0
        for reply_id in await self._reply_ids(parent.replies_collection):
            if await self._store.comments.find(reply_id) is not None:
                continue
            comment = await self._comment(reply_id, parent)
            if comment is None:
                continue
            async with self._store.transaction() as tx:
                inserted = await self._store.comments.insert(
                    tx, comment, datetime.fromtimestamp(self._clock(), UTC)
                )
            if inserted:
                added += 1 + await self._crawl_comment(comment, depth + 1)
        return added

    async def _comment(self, reply_id: str, parent: Comment) -> Comment | None:
        document = await self._fetch(reply_id)
        if document is None:
            return None
        try:
            note = parse_note(document)
        except MalformedError as exc:
            log.info("skipping %s: %s", reply_id, exc)
            return None
        # Believed only as its own server serves it, and only when it answers the parent.
        if not same_origin(note.id, note.attributed_to) or note.in_reply_to != parent.id:
            return None
        author_host = origin_of(note.attributed_to).split("://", 1)[1].split(":")[0]
        if await self._store.moderation.is_blocked(note.attributed_to, author_host):
            return None
        if blocked_keyword(note, await self._store.moderation.keywords()) is not None:
            return None
        try:
            author = person_of(await self._actors.get(note.attributed_to))
        except (FetchError, MalformedError):
            return None
        state = await state_for(self._store, self._blog.settings.moderation, author.id)
        return comment_of(note, author, parent.article_id, parent.id, state)
