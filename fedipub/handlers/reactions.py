"""Like, Announce (a boost) and EmojiReact on our articles: counted, with who."""

from __future__ import annotations

from fedipub.actors import person_of
from fedipub.handlers.targets import find_article
from fedipub.inbox import InboxContext, Result
from fedipub.parse import Activity
from fedipub.types import InboxOutcome, Notification, Reaction, ReactionKind

_EMOJI_LENGTH = 64


async def _react(
    ctx: InboxContext, activity: Activity, kind: ReactionKind, emoji: str = ""
) -> Result:
    article = await find_article(ctx, activity.object_id)
    if article is None:
        return Result(InboxOutcome.IGNORED, f"{activity.type} of something not ours")
    actor = person_of(await ctx.actors.get(activity.actor))
    reaction = Reaction(activity.id, kind, article.id, actor, emoji, ctx.now())
    async with ctx.store.transaction() as tx:
        added = await ctx.store.reactions.add(tx, reaction)
    if not added:
        return Result(InboxOutcome.DUPLICATE, f"{kind.value} counted already")
    notification = Notification(
        kind.value, f"{actor.handle}: {kind.value} on {article.title}", activity.id, actor.id
    )
    return Result(InboxOutcome.ACCEPTED, f"{kind.value} on {article.slug}", notification)


def _emoji(activity: Activity) -> str:
    return (activity.content or "")[:_EMOJI_LENGTH]


async def _like_comment(ctx: InboxContext, activity: Activity) -> Result:
    """A like of a comment under one of our articles: it orders threads by "Most liked"."""
    comment = (
        None if activity.object_id is None else await ctx.store.comments.find(activity.object_id)
    )
    if comment is None:
        return Result(InboxOutcome.IGNORED, "Like of something not ours")
    async with ctx.store.transaction() as tx:
        added = await ctx.store.reactions.like_comment(
            tx, activity.id, comment.id, activity.actor, ctx.now()
        )
    if not added:
        return Result(InboxOutcome.DUPLICATE, "like counted already")
    return Result(InboxOutcome.ACCEPTED, "like of a comment")


async def handle_like(ctx: InboxContext, activity: Activity) -> Result:
    if await find_article(ctx, activity.object_id) is None:
        return await _like_comment(ctx, activity)
    # Misskey sends its reactions as a Like carrying the emoji in `content`.
    emoji = _emoji(activity)
    if emoji:
        return await _react(ctx, activity, ReactionKind.EMOJI, emoji)
    return await _react(ctx, activity, ReactionKind.LIKE)


async def handle_announce(ctx: InboxContext, activity: Activity) -> Result:
    return await _react(ctx, activity, ReactionKind.ANNOUNCE)


async def handle_emoji_react(ctx: InboxContext, activity: Activity) -> Result:
    return await _react(ctx, activity, ReactionKind.EMOJI, _emoji(activity) or "❤")
