"""Actors (Person, Service, Group…) as commenters and followers: a spoof-proof name and
handle, inboxes we may deliver to, keys and avatar."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fedipub.errors import MalformedError
from fedipub.keydocs import ACTOR_TYPES, PublishedKey, parse_published_keys
from fedipub.parse.tags import Emoji, parse_emojis
from fedipub.parse.values import (
    DISPLAY_NAME_LENGTH,
    authority_of,
    check_size,
    first_id,
    html_url,
    http_url,
    ids_of,
    image_url,
    kind_of,
    localized,
    required_url,
    same_host,
    same_origin,
    text_of,
)
from fedipub.sanitize import sanitize_remote_html

# Mastodon's Account::USERNAME_RE, which remote usernames must match too: it keeps "@" and
# whitespace out of handles. Lotide's "57H", WordPress's "dbzer0.com" and Mbin's "fedia.io" pass.
_USERNAME = re.compile(r"[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?", re.IGNORECASE)


@dataclass(frozen=True)
class RemoteActor:
    id: str
    type: str
    preferred_username: str
    display_name: str  # plain and cleaned; the username when the actor has no name
    handle: str  # "@username@host", the host always the id's own
    inbox: str
    shared_inbox: str | None
    avatar_url: str | None
    profile_url: str  # the web profile on the actor's server, else the id
    summary_html: str  # sanitized
    followers: str | None
    also_known_as: tuple[str, ...]
    moved_to: str | None  # a claim, until the new account's alsoKnownAs names this one
    manually_approves_followers: bool
    keys: tuple[PublishedKey, ...]
    emojis: tuple[Emoji, ...]


def _shared_inbox(document: dict[str, Any], actor_id: str) -> str | None:
    # Misskey and Discourse also (or only) put sharedInbox on the actor itself.
    endpoints = document.get("endpoints")
    candidate = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    shared = http_url(candidate) or http_url(document.get("sharedInbox"))
    # Deliveries to a shared inbox elsewhere would let one actor aim our POSTs at any host.
    return shared if shared is not None and same_origin(shared, actor_id) else None


def _summary_html(document: dict[str, Any]) -> str:
    summary, _ = localized(document, "summary")
    return sanitize_remote_html(check_size(summary, "summary")) if summary is not None else ""


def parse_actor(document: dict[str, Any]) -> RemoteActor:
    """An actor document. Its id, a valid `preferredUsername` and an inbox on the id's own
    origin are required (an inbox elsewhere would make us deliver to a host the actor does not
    speak for); a shared inbox on another origin, or not http(s), is dropped."""
    actor_id = required_url(document.get("id"), "actor id")
    kind = kind_of(document.get("type"), ACTOR_TYPES)
    if kind not in ACTOR_TYPES:
        raise MalformedError(f"a {kind or 'typeless object'} is not an actor")
    username = document.get("preferredUsername")
    if not isinstance(username, str) or not _USERNAME.fullmatch(username) or len(username) > 100:
        raise MalformedError(f"preferredUsername is not a username: {str(username)[:100]!r}")
    inbox = required_url(document.get("inbox"), "inbox")
    if not same_origin(inbox, actor_id):
        raise MalformedError(f"inbox {inbox} is not on the origin of {actor_id}")
    name, _ = localized(document, "name")
    profile = html_url(document.get("url"))
    return RemoteActor(
        id=actor_id,
        type=kind,
        preferred_username=username,
        display_name=text_of(name, DISPLAY_NAME_LENGTH) or username,
        handle=f"@{username}@{authority_of(actor_id)}",
        inbox=inbox,
        shared_inbox=_shared_inbox(document, actor_id),
        avatar_url=image_url(document.get("icon")),
        # Like a post's url: a profile link on another host could point anywhere.
        profile_url=profile if profile is not None and same_host(profile, actor_id) else actor_id,
        summary_html=_summary_html(document),
        followers=http_url(first_id(document.get("followers"))),
        also_known_as=tuple(
            url for url in ids_of(document.get("alsoKnownAs")) if http_url(url) is not None
        ),
        moved_to=http_url(first_id(document.get("movedTo"))),
        manually_approves_followers=document.get("manuallyApprovesFollowers") is True,
        keys=parse_published_keys(document),
        emojis=parse_emojis(document.get("tag")),
    )
