"""Publishing, editing and deleting articles: the article row and the activity announcing it
are written in one transaction, so the outbox never disagrees with the blog."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fedipub.activities import build_create, build_delete, build_note, build_update
from fedipub.article_source import read_article_file, render_markdown
from fedipub.blog import Blog
from fedipub.errors import NotFoundError, SourceError
from fedipub.mentions import link_mentions
from fedipub.outbox import Outbox, new_activity_id
from fedipub.store import Store
from fedipub.types import Article, ArticleSource, MentionTarget, StoredActivity, Tombstone


class Outcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class PublishResult:
    article: Article
    outcome: Outcome
    activity: StoredActivity | None


def source_hash(source: ArticleSource) -> str:
    """A fingerprint of everything the author wrote: what `sync` compares."""
    return hashlib.sha256(repr(source).encode("utf-8")).hexdigest()


async def publish_article(
    store: Store,
    blog: Blog,
    source: ArticleSource,
    *,
    now: datetime,
    mentions: Sequence[MentionTarget] = (),
) -> PublishResult:
    """Create the article, or update it if its slug exists and its source changed. The
    article, the activity and its deliveries to every follower (and to the accounts it
    mentions, resolved by the caller) are one transaction."""
    settings, urls = blog.settings, blog.urls
    outbox = Outbox(store, blog)
    fingerprint = source_hash(source)
    resolved = tuple(mentions)
    body_html = link_mentions(render_markdown(source.body_markdown), {m.acct: m for m in resolved})
    existing = await store.articles.find(source.slug)
    if existing is not None and existing.source_hash == fingerprint:
        return PublishResult(existing, Outcome.UNCHANGED, None)
    activity_id = new_activity_id()
    async with store.transaction() as tx:
        if existing is None:
            published = source.published or now
            article_id = await store.articles.insert(
                tx,
                source,
                body_html=body_html,
                source_hash=fingerprint,
                published=published,
                mentions=resolved,
            )
            article = _article(
                article_id, source, body_html, fingerprint, published, None, resolved
            )
            note = build_note(settings, urls, article)
            document = build_create(urls, note, activity_id)
            outcome = Outcome.CREATED
        else:
            await store.articles.update(
                tx,
                existing.id,
                source,
                body_html=body_html,
                source_hash=fingerprint,
                updated=now,
                mentions=resolved,
            )
            article = _article(
                existing.id, source, body_html, fingerprint, existing.published, now, resolved
            )
            note = build_note(settings, urls, article)
            # The outbox's Create shows the article as it is now, with a proof over that.
            for create_id in await store.activities.create_ids(tx, note["id"]):
                fresh = blog.sign(build_create(urls, note, create_id), now)
                await store.activities.replace_document(tx, create_id, fresh)
            document = build_update(urls, note, activity_id, now)
            outcome = Outcome.UPDATED
        activity = await outbox.send(
            tx,
            document,
            activity_id=activity_id,
            object_id=note["id"],
            inboxes=[m.inbox for m in resolved],
            now=now,
            in_outbox=outcome is Outcome.CREATED,
            to_followers=True,
        )
    return PublishResult(article, outcome, activity)


def _article(
    article_id: int,
    source: ArticleSource,
    body_html: str,
    fingerprint: str,
    published: datetime,
    updated: datetime | None,
    mentions: tuple[MentionTarget, ...],
) -> Article:
    return Article(
        id=article_id,
        slug=source.slug,
        title=source.title,
        body_markdown=source.body_markdown,
        body_html=body_html,
        summary=source.summary,
        tags=source.tags,
        language=source.language,
        content_warning=source.content_warning,
        images=source.images,
        published=published,
        updated=updated,
        source_hash=fingerprint,
        mentions=mentions,
    )


async def unpublish_article(
    store: Store, blog: Blog, slug: str, *, now: datetime
) -> tuple[Tombstone, StoredActivity]:
    """Delete the article: its URL then answers 410 Gone with a Tombstone."""
    settings, urls = blog.settings, blog.urls
    article = await store.articles.find(slug)
    if article is None:
        raise NotFoundError(f"no article with slug {slug!r}")
    tombstone = Tombstone(slug=slug, deleted=now, published=article.published)
    activity_id = new_activity_id()
    async with store.transaction() as tx:
        await store.articles.delete(tx, article, now)
        await store.activities.withdraw(tx, urls.article(slug))
        activity = await Outbox(store, blog).send(
            tx,
            build_delete(settings, urls, tombstone, activity_id),
            activity_id=activity_id,
            object_id=urls.article(slug),
            inboxes=(),
            now=now,
            to_followers=True,
        )
    return tombstone, activity


@dataclass(frozen=True)
class SyncReport:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    deleted: tuple[str, ...]
    unchanged: tuple[str, ...]


def read_folder(folder: Path) -> list[ArticleSource]:
    """Every `*.md` file below `folder`, validated before anything is changed."""
    sources = [read_article_file(path) for path in sorted(folder.rglob("*.md"))]
    seen: dict[str, int] = {}
    for index, source in enumerate(sources):
        if source.slug in seen:
            raise SourceError(f"two files in {folder} have the slug {source.slug!r}")
        seen[source.slug] = index
    return sources


async def sync_articles(
    store: Store,
    blog: Blog,
    sources: Iterable[ArticleSource],
    *,
    now: datetime,
    resolve: Callable[[ArticleSource], Awaitable[Sequence[MentionTarget]]] | None = None,
) -> SyncReport:
    """Make the blog match `sources`: new ones published, changed ones updated, missing ones
    deleted."""
    wanted = {source.slug: source for source in sources}
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for slug, source in wanted.items():
        mentions = await resolve(source) if resolve is not None else ()
        result = await publish_article(store, blog, source, now=now, mentions=mentions)
        {Outcome.CREATED: created, Outcome.UPDATED: updated, Outcome.UNCHANGED: unchanged}[
            result.outcome
        ].append(slug)
    deleted = sorted(set(await store.articles.source_hashes()) - set(wanted))
    for slug in deleted:
        await unpublish_article(store, blog, slug, now=now)
    return SyncReport(tuple(created), tuple(updated), tuple(deleted), tuple(unchanged))


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
