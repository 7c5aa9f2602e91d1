"""Sending our own activities: stored (so their ids resolve), signed with an integrity proof,
and queued for delivery in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fedipub.blog import Blog
from fedipub.delivery import recipients
from fedipub.store import Store, Transaction
from fedipub.types import StoredActivity


def new_activity_id() -> str:
    return uuid.uuid4().hex


class Outbox:
    def __init__(self, store: Store, blog: Blog) -> None:
        self._store = store
        self._blog = blog

    async def send(
        self,
        tx: Transaction,
        document: dict[str, Any],
        *,
        activity_id: str,
        object_id: str,
        inboxes: Iterable[str],
        now: datetime,
        in_outbox: bool = False,
        to_followers: bool = False,
    ) -> StoredActivity:
        """Store `document` and queue it for `inboxes` (and every follower's inbox, one request
        per shared inbox, when `to_followers`)."""
        signed = self._blog.sign(document, now)
        activity = StoredActivity(
            id=activity_id,
            type=str(document["type"]),
            object_id=object_id,
            document=signed,
            published=now,
        )
        await self._store.activities.add(tx, activity, in_outbox=in_outbox)
        followers = await self._store.deliveries.follower_inboxes(tx) if to_followers else []
        targets = recipients(followers, inboxes, self._blog.urls.base)
        await self._store.deliveries.enqueue(tx, activity_id, object_id, targets, now)
        return activity
