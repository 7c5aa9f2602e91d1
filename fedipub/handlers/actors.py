"""Update, Delete, Move and Flag: edits and deletions by their owners only, account
migrations proven by the new account, and reports for the admin."""

from __future__ import annotations

from fedipub.actors import person_of
from fedipub.errors import ForbiddenError
from fedipub.handlers.comments import edited, note_of
from fedipub.inbox import InboxContext, Result
from fedipub.keydocs import ACTOR_TYPES
from fedipub.parse import Activity, kind_of, parse_actor
from fedipub.store.moderation import Report
from fedipub.store.remote import CachedActor
from fedipub.types import Follower, InboxOutcome, Notification


async def _update_actor(ctx: InboxContext, activity: Activity) -> Result:
    if activity.object_id != activity.actor or activity.object is None:
        raise ForbiddenError("an actor can only update itself")
    actor = parse_actor(activity.object)
    now = ctx.now()
    await ctx.store.remote_actors.save(CachedActor(actor.id, activity.object, now))
    person = person_of(actor)
    async with ctx.store.transaction() as tx:
        await ctx.store.comments.refresh_author(tx, person)
        await ctx.store.reactions.refresh_actor(tx, person)
        follower = await ctx.store.followers.find(actor.id)
        if follower is not None:
            await ctx.store.followers.upsert(
                tx,
                Follower(
                    actor.id,
                    actor.inbox,
                    actor.shared_inbox,
                    follower.state,
                    follower.follow_id,
                    follower.created,
                ),
            )
    await ctx.store.remote_keys.forget_owner(actor.id)
    return Result(InboxOutcome.ACCEPTED, "profile refreshed")


async def handle_update(ctx: InboxContext, activity: Activity) -> Result:
    embedded = activity.object or {}
    if kind_of(embedded.get("type"), ACTOR_TYPES) in ACTOR_TYPES:
        return await _update_actor(ctx, activity)
    note = await note_of(ctx, activity)
    existing = await ctx.store.comments.find(note.id)
    if existing is None:
        return Result(InboxOutcome.IGNORED, "an update of nothing stored here")
    if existing.author.id != activity.actor:
        # PeerTube CVE-2026-73090: an edit by anyone but the author changes nothing.
        raise ForbiddenError("only the author can edit a comment")
    async with ctx.store.transaction() as tx:
        await ctx.store.comments.edit(tx, edited(existing, note, ctx.now()))
    return Result(InboxOutcome.ACCEPTED, "comment edited")


async def _delete_actor(ctx: InboxContext, actor_id: str) -> Result:
    async with ctx.store.transaction() as tx:
        removed = await ctx.store.comments.remove_by_author(tx, actor_id)
        await ctx.store.reactions.remove_by_actor(tx, actor_id)
        await ctx.store.followers.remove(tx, actor_id)
    await ctx.store.remote_keys.forget_owner(actor_id)
    return Result(InboxOutcome.ACCEPTED, f"account deleted: {removed} comment(s) removed")


async def handle_delete(ctx: InboxContext, activity: Activity) -> Result:
    deleted = activity.object_id
    if deleted is None:
        return Result(InboxOutcome.IGNORED, "nothing named to delete")
    if deleted == activity.actor:
        return await _delete_actor(ctx, deleted)
    comment = await ctx.store.comments.find(deleted)
    if comment is None:
        return Result(InboxOutcome.IGNORED, "a deletion of nothing stored here")
    if comment.author.id != activity.actor:
        raise ForbiddenError("only the author can delete a comment")
    async with ctx.store.transaction() as tx:
        await ctx.store.comments.remove(tx, deleted)
    return Result(InboxOutcome.ACCEPTED, "comment deleted")


async def handle_move(ctx: InboxContext, activity: Activity) -> Result:
    """A follower moving to a new account is moved, if the new account names the old one in
    its alsoKnownAs (fetched from the new account's server, never taken from the Move)."""
    old, new = activity.object_id, activity.target
    if old != activity.actor or new is None:
        raise ForbiddenError("an actor can only move itself")
    follower = await ctx.store.followers.find(old)
    if follower is None:
        return Result(InboxOutcome.IGNORED, "not a follower")
    target = await ctx.actors.get(new, refresh=True)
    if old not in target.also_known_as:
        raise ForbiddenError("the new account does not name the old one in alsoKnownAs")
    async with ctx.store.transaction() as tx:
        await ctx.store.followers.remove(tx, old)
        await ctx.store.followers.upsert(
            tx,
            Follower(
                target.id,
                target.inbox,
                target.shared_inbox,
                follower.state,
                follower.follow_id,
                follower.created,
            ),
        )
    return Result(InboxOutcome.ACCEPTED, f"follower moved to {target.id}")


async def handle_flag(ctx: InboxContext, activity: Activity) -> Result:
    report = Report(
        id=activity.id,
        actor_id=activity.actor,
        object_ids=activity.object_ids,
        content=activity.content or "",
        received=ctx.now(),
    )
    async with ctx.store.transaction() as tx:
        await ctx.store.moderation.add_report(tx, report)
    notification = Notification(
        "report", f"report from {activity.actor}", activity.id, activity.actor
    )
    return Result(InboxOutcome.ACCEPTED, "report kept for the admin", notification)
