"""Moving a blog's audience: Move to a new account, aliases for moving in, and the exports
another server can import.

A follow is the follower's own act: no server can make people follow an account. What moves
followers is a Move activity, which their servers act on only after checking, on the new
account's own server, that it names the old one in `alsoKnownAs`. So moving *out* is
`fedipub move` (the new account must list the blog as an alias first), and moving *in* is
`fedipub alias add @old@host` followed by the Move sent from the old account.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict
from datetime import datetime
from typing import Any

from fedipub.activities import build_move, build_update_actor, iso
from fedipub.actors import ActorDirectory
from fedipub.errors import ConfigError, FetchError, MalformedError
from fedipub.fetch import Fetcher
from fedipub.outbox import Outbox, new_activity_id
from fedipub.parse import RemoteActor, parse_actor
from fedipub.store import Store
from fedipub.types import Article, Comment
from fedipub.urls import Urls

_ACCOUNT = re.compile(r"^@?([^@\s/]+)@([a-z0-9.-]+(?::[0-9]{1,5})?)$", re.IGNORECASE)
# The columns of Mastodon's "Follows" export, which its importer reads back.
MASTODON_CSV_HEADER = ("Account address", "Show boosts", "Notify on new posts", "Languages")


def parse_account(text: str) -> tuple[str, str]:
    """`@user@host` (or `user@host`) → (user, host)."""
    found = _ACCOUNT.match(text.strip())
    if found is None:
        raise ConfigError(f"{text!r} is not an account address like @name@example.social")
    return found.group(1), found.group(2).lower()


async def resolve_account(fetcher: Fetcher, account: str) -> RemoteActor:
    """The actor behind `@user@host` (WebFinger, asked of that host) or an actor URL, fetched
    from its own server through the guarded client."""
    if account.startswith(("https://", "http://")):
        actor_id = account
    else:
        user, host = parse_account(account)
        actor_id = await fetcher.resolve_acct(user, host)
    return parse_actor(await fetcher.fetch_object(actor_id))


def check_move_target(urls: Urls, target: RemoteActor) -> None:
    """A Move is refused unless the target names this blog in `alsoKnownAs`: every
    follower's server would refuse it too."""
    if target.id == urls.actor:
        raise ConfigError("the blog cannot move to itself")
    if urls.actor not in target.also_known_as:
        raise ConfigError(
            f"{target.handle} does not list {urls.actor} in alsoKnownAs; add it there first "
            "(Mastodon: Preferences > Account > Moving from a different account)"
        )


async def send_move(
    store: Store, outbox: Outbox, urls: Urls, target: RemoteActor, now: datetime
) -> str:
    """Queue a Move to `target` for every follower; returns the activity id."""
    check_move_target(urls, target)
    activity_id = new_activity_id()
    async with store.transaction() as tx:
        await outbox.send(
            tx,
            build_move(urls, target.id, activity_id, now),
            activity_id=activity_id,
            object_id=urls.actor,
            inboxes=(),
            now=now,
            to_followers=True,
        )
    return activity_id


async def send_profile_update(
    store: Store, outbox: Outbox, urls: Urls, actor: dict[str, Any], now: datetime
) -> str:
    """Queue Update{Person} with the actor as it is now for every follower."""
    activity_id = new_activity_id()
    async with store.transaction() as tx:
        await outbox.send(
            tx,
            build_update_actor(urls, actor, activity_id, now),
            activity_id=activity_id,
            object_id=urls.actor,
            inboxes=(),
            now=now,
            to_followers=True,
        )
    return activity_id


async def follower_addresses(store: Store, actors: ActorDirectory) -> tuple[list[str], list[str]]:
    """The accepted followers as `user@host`, and the actor URLs that could not be had (their
    server is gone). Actors are read from the cache, fetched when missing or stale."""
    page = await store.followers.page(1, 10_000_000)
    addresses: list[str] = []
    unknown: list[str] = []
    for follower in page.items:
        try:
            actor = await actors.get(follower.actor_id)
        except (FetchError, MalformedError):
            unknown.append(follower.actor_id)
            continue
        addresses.append(actor.handle.removeprefix("@"))
    return addresses, unknown


def followers_csv(addresses: list[str]) -> str:
    """Mastodon's CSV: its "import follows" reads it (to follow the blog's readers back from
    a personal account, say)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MASTODON_CSV_HEADER)
    writer.writerows((address, "true", "false", "") for address in addresses)
    return out.getvalue()


def _comment_document(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "url": comment.url,
        "in_reply_to": comment.parent_id,
        "author": asdict(comment.author),
        "content_html": comment.content_html,
        "summary": comment.summary,
        "sensitive": comment.sensitive,
        "language": comment.language,
        "attachments": [asdict(attachment) for attachment in comment.attachments],
        "visibility": comment.visibility.value,
        "state": comment.state.value,
        "by_the_blog": comment.is_local,
        "published": iso(comment.published),
        "updated": iso(comment.updated) if comment.updated else None,
    }


def comments_document(urls: Urls, article: Article, comments: list[Comment]) -> dict[str, Any]:
    """An article's comments, every state included (hidden and pending too), oldest first."""
    return {
        "article": {
            "slug": article.slug,
            "title": article.title,
            "url": urls.article(article.slug),
        },
        "comments": [_comment_document(comment) for comment in comments],
    }
