"""Activities: who did what to which object, with the object's id checked and the object itself
kept, still untrusted, for the handler that parses it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedipub.errors import MalformedError
from fedipub.parse.values import (
    clean_text,
    first_actor,
    first_id,
    http_url,
    ids_of,
    kind_of,
    optional_datetime,
    recipients,
    required_url,
)

# The Activity Vocabulary's activity types, and the extensions peers send: Pleroma and
# Misskey's EmojiReact, Lemmy's Lock, Warn and Resolve.
ACTIVITY_TYPES = frozenset(
    {
        "Accept", "Add", "Announce", "Arrive", "Block", "Create", "Delete", "Dislike", "Flag",
        "Follow", "Ignore", "Invite", "Join", "Leave", "Like", "Listen", "Move", "Offer",
        "Question", "Read", "Reject", "Remove", "TentativeAccept", "TentativeReject", "Travel",
        "Undo", "Update", "View", "EmojiReact", "Lock", "Warn", "Resolve",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Activity:
    id: str
    type: str
    actor: str
    object_id: str | None  # the first object's id (an activity may name several, as Flag does)
    object_ids: tuple[str, ...]
    object: dict[str, Any] | None  # the object when it was embedded: raw, to be parsed again
    target: str | None  # Move's new account, Add/Remove's collection
    to: tuple[str, ...]
    cc: tuple[str, ...]
    published: datetime | None
    # Plain text: the emoji of a Like or EmojiReact (Misskey, Pleroma), a Flag's comment.
    content: str | None = None


# Long enough for a Flag's comment; an emoji is far shorter.
_CONTENT_LENGTH = 1000


def parse_activity(document: dict[str, Any]) -> Activity:
    """An activity's envelope. The id and actor (a bare id or an embedded actor, as Kroeg and
    Hubzilla send) must be http(s) URLs, and so must every object id it names."""
    activity_id = required_url(document.get("id"), "activity id")
    kind = kind_of(document.get("type"), ACTIVITY_TYPES)
    if kind is None:
        raise MalformedError("activity type is missing")
    actor = required_url(first_actor(document.get("actor")), "actor")
    value = document.get("object")
    object_ids = tuple(required_url(object_id, "object id") for object_id in ids_of(value))
    return Activity(
        id=activity_id,
        type=kind,
        actor=actor,
        object_id=object_ids[0] if object_ids else None,
        object_ids=object_ids,
        object=value if isinstance(value, dict) else None,
        target=http_url(first_id(document.get("target"))),
        to=recipients(document.get("to")),
        cc=recipients(document.get("cc")),
        published=optional_datetime(document.get("published")),
        content=_content(document),
    )


def _content(document: dict[str, Any]) -> str | None:
    raw = document.get("content")
    if raw is None:
        raw = document.get("_misskey_reaction")
    return clean_text(raw, _CONTENT_LENGTH) or None if isinstance(raw, str) else None


def parse_deleted_object_id(activity: Activity) -> str:
    """What a Delete deletes: a bare id, or the id of the embedded Tombstone (Mastodon,
    Friendica) or actor (Mastodon's account deletion)."""
    if activity.type != "Delete":
        raise MalformedError(f"a {activity.type} deletes nothing")
    if activity.object_id is None:
        raise MalformedError("the Delete names no object")
    return activity.object_id
