"""Follow: followers are stored with their inboxes and answered with a signed Accept."""

from __future__ import annotations

from typing import Any

from fedipub.activities import build_accept
from fedipub.errors import ProtocolError
from fedipub.inbox import InboxContext, Result
from fedipub.outbox import new_activity_id
from fedipub.parse import Activity
from fedipub.types import Follower, FollowState, InboxOutcome, Notification


class UnknownActorError(ProtocolError):
    status = 404


def follow_document(follow_id: str, follower: str, followed: str) -> dict[str, Any]:
    """The Follow as Accept/Reject embed it; Mastodon matches it by id."""
    return {"id": follow_id, "type": "Follow", "actor": follower, "object": followed}


async def handle_follow(ctx: InboxContext, activity: Activity) -> Result:
    urls = ctx.blog.urls
    if activity.object_id != urls.actor:
        raise UnknownActorError(f"no local actor {activity.object_id}")
    actor = await ctx.actors.get(activity.actor)
    manual = ctx.blog.settings.manually_approves_followers
    existing = await ctx.store.followers.find(actor.id)
    state = (
        FollowState.ACCEPTED
        if not manual or (existing is not None and existing.state is FollowState.ACCEPTED)
        else FollowState.PENDING
    )
    now = ctx.now()
    follower = Follower(
        actor_id=actor.id,
        inbox=actor.inbox,
        shared_inbox=actor.shared_inbox,
        state=state,
        follow_id=activity.id,
        created=existing.created if existing else now,
    )
    async with ctx.store.transaction() as tx:
        await ctx.store.followers.upsert(tx, follower)
        if state is FollowState.ACCEPTED:
            activity_id = new_activity_id()
            accept = build_accept(
                urls, follow_document(activity.id, actor.id, urls.actor), activity_id
            )
            await ctx.outbox.send(
                tx,
                accept,
                activity_id=activity_id,
                object_id=activity.id,
                inboxes=[actor.inbox],
                now=now,
            )
    if state is FollowState.PENDING:
        note = Notification("follow-request", f"{actor.handle} asks to follow", actor.id, actor.id)
        return Result(InboxOutcome.HELD, "follow request held for approval", note)
    note = Notification("follower", f"{actor.handle} follows the blog", actor.id, actor.id)
    return Result(InboxOutcome.ACCEPTED, "follower accepted", note)
