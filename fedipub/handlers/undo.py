"""Undo of a Follow, Like, Announce or EmojiReact: only by the actor who did it."""

from __future__ import annotations

from fedipub.errors import ForbiddenError
from fedipub.handlers.targets import find_article
from fedipub.inbox import InboxContext, Result
from fedipub.parse import Activity, first_id, kind_of
from fedipub.types import InboxOutcome, ReactionKind

_REACTIONS = {
    "Like": ReactionKind.LIKE,
    "Announce": ReactionKind.ANNOUNCE,
    "EmojiReact": ReactionKind.EMOJI,
}


async def _undo_follow(ctx: InboxContext, activity: Activity) -> Result:
    follower = await ctx.store.followers.find(activity.actor)
    if follower is None:
        return Result(InboxOutcome.IGNORED, "not a follower")
    async with ctx.store.transaction() as tx:
        await ctx.store.followers.remove(tx, activity.actor)
    return Result(InboxOutcome.ACCEPTED, "unfollowed")


async def _undo_reaction(ctx: InboxContext, activity: Activity, inner_type: str | None) -> Result:
    undone = activity.object_id
    liker = None if undone is None else await ctx.store.reactions.comment_like_actor(undone)
    if undone is not None and liker is not None:
        if liker != activity.actor:
            raise ForbiddenError("only who liked can undo it")
        async with ctx.store.transaction() as tx:
            await ctx.store.reactions.unlike_comment(tx, undone)
        return Result(InboxOutcome.ACCEPTED, "like of a comment undone")
    reaction = None if undone is None else await ctx.store.reactions.find(undone)
    if reaction is not None:
        if reaction.actor.id != activity.actor:
            raise ForbiddenError("only who reacted can undo it")
        async with ctx.store.transaction() as tx:
            await ctx.store.reactions.remove(tx, reaction.activity_id)
        return Result(InboxOutcome.ACCEPTED, f"{reaction.kind.value} undone")
    # Some servers embed the undone activity without an id we stored (or with a new one):
    # match it by who, what and on which article.
    kind = _REACTIONS.get(inner_type or "")
    embedded = activity.object or {}
    article = await find_article(ctx, first_id(embedded.get("object")))
    if kind is None or article is None:
        return Result(InboxOutcome.IGNORED, "nothing of this actor to undo")
    async with ctx.store.transaction() as tx:
        removed = await ctx.store.reactions.remove_matching(tx, activity.actor, article.id, kind)
    if not removed:
        return Result(InboxOutcome.IGNORED, "nothing of this actor to undo")
    return Result(InboxOutcome.ACCEPTED, f"{kind.value} undone")


async def handle_undo(ctx: InboxContext, activity: Activity) -> Result:
    embedded = activity.object or {}
    embedded_actor = first_id(embedded.get("actor"))
    if embedded_actor is not None and embedded_actor != activity.actor:
        raise ForbiddenError("an actor can only undo its own activities")
    undoable = frozenset({"Follow", *_REACTIONS})
    found_type = kind_of(embedded.get("type"), undoable)
    inner_type = found_type if found_type in undoable else None
    if inner_type == "Follow":
        return await _undo_follow(ctx, activity)
    if inner_type is None and activity.object_id is not None:
        follower = await ctx.store.followers.find(activity.actor)
        if follower is not None and follower.follow_id == activity.object_id:
            return await _undo_follow(ctx, activity)
    return await _undo_reaction(ctx, activity, inner_type)
