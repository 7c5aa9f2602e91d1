"""Plain values that cross layers: frozen dataclasses and the enums of closed sets."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Image:
    """An image of an article: federated as an attachment, since Mastodon strips inline <img>."""

    url: str
    alt: str
    media_type: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class ArticleSource:
    """An article as the author wrote it: front matter and Markdown, validated."""

    slug: str
    title: str
    body_markdown: str
    summary: str | None = None
    tags: tuple[str, ...] = ()
    language: str | None = None
    published: datetime | None = None
    content_warning: str | None = None
    images: tuple[Image, ...] = ()


@dataclass(frozen=True)
class MentionTarget:
    """A fediverse account an article mentions, resolved through WebFinger."""

    acct: str  # "user@host"
    actor_id: str
    profile_url: str
    inbox: str


@dataclass(frozen=True)
class Article:
    """A published article as stored."""

    id: int
    slug: str
    title: str
    body_markdown: str
    body_html: str
    summary: str | None
    tags: tuple[str, ...]
    language: str | None
    content_warning: str | None
    images: tuple[Image, ...]
    published: datetime
    updated: datetime | None
    source_hash: str
    mentions: tuple[MentionTarget, ...] = ()


@dataclass(frozen=True)
class Tombstone:
    """What remains of a deleted article: its URL answers 410 Gone with this."""

    slug: str
    deleted: datetime
    published: datetime


class FollowState(enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class Follower:
    actor_id: str
    inbox: str
    shared_inbox: str | None
    state: FollowState
    follow_id: str
    created: datetime


@dataclass(frozen=True)
class StoredActivity:
    """An activity of our outbox, kept so that its id is dereferenceable."""

    id: str
    type: str
    object_id: str
    document: dict[str, object]
    published: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a collection, newest first."""

    items: tuple[T, ...]
    total: int
    page: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total


class Visibility(enum.Enum):
    """Who a remote post is addressed to. Only PUBLIC and UNLISTED replies are ever shown."""

    PUBLIC = "public"
    UNLISTED = "unlisted"
    FOLLOWERS = "followers"
    DIRECT = "direct"

    @property
    def shown_publicly(self) -> bool:
        return self in (Visibility.PUBLIC, Visibility.UNLISTED)


class CommentState(enum.Enum):
    SHOWN = "shown"
    PENDING = "pending"  # held for the admin's approval
    HIDDEN = "hidden"  # hidden by the admin
    DELETED = "deleted"  # deleted by its author; kept as a placeholder while it has replies


@dataclass(frozen=True)
class Person:
    """A snapshot of a remote actor, as shown beside what they wrote."""

    id: str
    name: str
    handle: str
    avatar: str | None
    url: str


@dataclass(frozen=True)
class CommentAttachment:
    url: str
    media_type: str | None
    name: str
    kind: str


@dataclass(frozen=True)
class Comment:
    id: str
    article_id: int
    parent_id: str | None
    author: Person
    content_html: str
    summary: str | None
    sensitive: bool
    language: str | None
    attachments: tuple[CommentAttachment, ...]
    emojis: tuple[tuple[str, str], ...]  # (shortcode, image URL)
    url: str
    visibility: Visibility
    state: CommentState
    is_local: bool
    replies_collection: str | None
    published: datetime
    updated: datetime | None


class ReactionKind(enum.Enum):
    LIKE = "like"
    ANNOUNCE = "announce"
    EMOJI = "emoji"


@dataclass(frozen=True)
class Reaction:
    activity_id: str
    kind: ReactionKind
    article_id: int
    actor: Person
    emoji: str
    created: datetime


class InboxOutcome(enum.Enum):
    ACCEPTED = "accepted"
    IGNORED = "ignored"
    HELD = "held"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class InboxLogEntry:
    received: datetime
    activity_id: str | None
    activity_type: str | None
    actor: str | None
    outcome: InboxOutcome
    reason: str


class BlockKind(enum.Enum):
    ACTOR = "actor"
    DOMAIN = "domain"
    KEYWORD = "keyword"


@dataclass(frozen=True)
class Notification:
    """Something the admin is told of: a new comment, follower, mention or report."""

    kind: str
    title: str
    url: str
    actor: str
