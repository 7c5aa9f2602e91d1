"""What a remote activity points at on this blog: an article, or a comment under one."""

from __future__ import annotations

from dataclasses import dataclass

from fedipub.inbox import InboxContext
from fedipub.types import Article


@dataclass(frozen=True)
class ReplyTarget:
    article: Article
    parent_id: str | None  # None: a reply to the article itself


def article_slug(ctx: InboxContext, url: str | None) -> str | None:
    """The slug when `url` is one of our article URLs."""
    prefix = ctx.blog.urls.article("")
    if url is None or not url.startswith(prefix):
        return None
    slug = url[len(prefix) :]
    return slug if slug and "/" not in slug and "?" not in slug and "#" not in slug else None


async def find_article(ctx: InboxContext, url: str | None) -> Article | None:
    slug = article_slug(ctx, url)
    return None if slug is None else await ctx.store.articles.find(slug)


async def find_reply_target(ctx: InboxContext, in_reply_to: str | None) -> ReplyTarget | None:
    """Our article, or a comment stored under one (threads of any depth)."""
    if in_reply_to is None:
        return None
    article = await find_article(ctx, in_reply_to)
    if article is not None:
        return ReplyTarget(article, None)
    parent = await ctx.store.comments.find(in_reply_to)
    if parent is None:
        return None
    found = await ctx.store.articles.find_by_id(parent.article_id)
    return None if found is None else ReplyTarget(found, parent.id)
