"""What the article page shows of the fediverse: comment threads and the rating line.

Everything here that returns Markup builds it from escaped pieces: names, content warnings,
alt texts and emoji shortcodes come from other servers and may be hostile. The one remote
HTML kept as given is a comment's `content_html`, sanitized with nh3 when it was stored
(`sanitize.sanitize_remote_html`).
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from fedipub.threads import SortOrder, ThreadNode, build_threads, count_shown, page_threads
from fedipub.types import (
    Comment,
    CommentAttachment,
    CommentState,
    Person,
    Reaction,
    ReactionKind,
)

MAX_AVATARS = 20  # people shown by face in the rating line; the rest are counted
SORT_LABELS = {
    SortOrder.OLDEST: "Oldest",
    SortOrder.NEWEST: "Newest",
    SortOrder.LIKED: "Most liked",
}
# An image shown as a thumbnail: never SVG, which may carry script or remote references, and
# is shown as a link instead.
_THUMBNAIL_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"})
# nh3 serializes with html5ever: every attribute is double-quoted with `"` escaped, and `<` in
# text is escaped, but `>` may stay raw inside an attribute. This splits such HTML into its
# tags (odd indexes) and text (even ones) exactly.
_TAG = re.compile(r"(<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>)")
# What fedipub.parse.tags accepts; anything else in Comment.emojis is left as text.
_SHORTCODE = re.compile(r":[A-Za-z0-9_]{1,100}:")


def web_url(url: str | None) -> str | None:
    """`url` when it is http(s), else None. Jinja escapes an attribute's text but not a
    "javascript:" scheme, and remote values are checked here once more before becoming links."""
    if url and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


def anchor(comment_id: str) -> str:
    """An HTML id for a comment: its id is a URL, too long and full of characters for one."""
    return "comment-" + hashlib.sha256(comment_id.encode()).hexdigest()[:16]


# --- emoji ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _emoji_pattern(emojis: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    # Cached: comments in one conversation often share their emoji, and a thousand-comment
    # page should not compile a thousand patterns. Bounded, since the tuples are remote data.
    images: dict[str, str] = {}
    for code, url in emojis:
        image = web_url(url)
        if image is not None and _SHORTCODE.fullmatch(code):
            images.setdefault(code, image)
    # The alternation of the known codes, longest first, so ":a:b:" with only ":b:" known
    # still finds ":b:", and no unknown code is ever replaced.
    alternatives = "|".join(re.escape(code) for code in sorted(images, key=len, reverse=True))
    return re.compile(alternatives or r"(?!)"), images


def _emoji_image(code: str, url: str) -> str:
    return f'<img class="emoji" src="{escape(url)}" alt="{escape(code)}" title="{escape(code)}">'


def _replace_emoji(escaped_text: str, emojis: tuple[tuple[str, str], ...]) -> str:
    # A shortcode is letters, digits and "_" between colons, which escaping never produces or
    # alters, so it is found in escaped text exactly as in the raw text.
    pattern, images = _emoji_pattern(emojis)
    return pattern.sub(lambda m: _emoji_image(m[0], images[m[0]]), escaped_text)


def emojify(text: str, emojis: tuple[tuple[str, str], ...]) -> Markup:
    """Plain text (a name, a content warning) escaped, its custom emoji as images."""
    escaped = str(escape(text))
    return Markup(_replace_emoji(escaped, emojis) if emojis else escaped)  # noqa: S704 - escaped above


def comment_content(comment: Comment) -> Markup:
    """The comment's sanitized HTML, custom emoji replaced in its text only (a shortcode in an
    href or a title stays as it is)."""
    html = comment.content_html
    if not comment.emojis:
        return Markup(html)  # noqa: S704 - sanitized with nh3 when stored
    parts = _TAG.split(html)
    for index in range(0, len(parts), 2):
        parts[index] = _replace_emoji(parts[index], comment.emojis)
    return Markup("".join(parts))  # noqa: S704 - sanitized HTML, escaped emoji images


# --- times ---------------------------------------------------------------------------------

# Each unit from the largest: seconds in it, and its name. Mirrored in static/comments.js.
_UNITS = (
    (365 * 86400, "year"),
    (30 * 86400, "month"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def time_ago(value: datetime, now: datetime) -> str:
    """How long ago, in the largest whole unit: "3 hours ago". A date in the future (a peer's
    clock ahead of ours) is "just now"."""
    seconds = (_utc(now) - _utc(value)).total_seconds()
    for size, unit in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def exact_time(value: datetime) -> str:
    moment = _utc(value)
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def iso_utc(value: datetime) -> str:
    return _utc(value).isoformat()


# --- attachments ---------------------------------------------------------------------------


def is_thumbnail(attachment: CommentAttachment) -> bool:
    media_type = (attachment.media_type or "").split(";")[0].strip().lower()
    if media_type:
        return media_type in _THUMBNAIL_TYPES
    return attachment.kind == "image" and not urlsplit(attachment.url).path.lower().endswith(".svg")


# --- the rating line -----------------------------------------------------------------------


@dataclass(frozen=True)
class People:
    """Who reacted one way: the first MAX_AVATARS by face, the others counted."""

    shown: tuple[Person, ...]
    more: int

    @property
    def count(self) -> int:
        return len(self.shown) + self.more


@dataclass(frozen=True)
class Rating:
    likes: People
    boosts: People
    emojis: tuple[tuple[str, int], ...]  # (emoji, how many), the most used first

    @property
    def empty(self) -> bool:
        return not (self.likes.count or self.boosts.count or self.emojis)


def _people(reactions: Sequence[Reaction]) -> People:
    # Counted once per person: a peer that re-sends a Like under a new id likes no more.
    unique = list({r.actor.id: r.actor for r in reactions}.values())
    return People(tuple(unique[:MAX_AVATARS]), max(0, len(unique) - MAX_AVATARS))


def rating_of(reactions: Sequence[Reaction]) -> Rating:
    """Likes, boosts and emoji reactions, each person in the order they reacted."""
    ordered = sorted(reactions, key=lambda r: (_utc(r.created), r.activity_id))
    emoji_people: dict[str, set[str]] = {}
    for reaction in ordered:
        if reaction.kind is ReactionKind.EMOJI:
            emoji_people.setdefault(reaction.emoji, set()).add(reaction.actor.id)
    return Rating(
        likes=_people([r for r in ordered if r.kind is ReactionKind.LIKE]),
        boosts=_people([r for r in ordered if r.kind is ReactionKind.ANNOUNCE]),
        emojis=tuple(
            sorted(
                ((emoji, len(people)) for emoji, people in emoji_people.items()),
                key=lambda pair: (-pair[1], pair[0]),
            )
        ),
    )


# --- the comments section ------------------------------------------------------------------


@dataclass(frozen=True)
class SortLink:
    label: str
    href: str
    current: bool


@dataclass(frozen=True)
class CommentsView:
    """One page of an article's comment threads, with the links around them."""

    threads: tuple[ThreadNode, ...]
    count: int  # every shown comment on every page
    sort_links: tuple[SortLink, ...]
    page: int
    pages: int
    previous: str | None
    next: str | None
    by_id: Mapping[str, Comment]  # the threads' comments, to name whom a flattened reply answers
    likes: Mapping[str, int]


def _walk(nodes: Sequence[ThreadNode]) -> Iterator[ThreadNode]:
    stack = list(reversed(nodes))
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def comments_view(
    comments: Sequence[Comment],
    *,
    article_url: str,
    order: SortOrder,
    page: int,
    per_page: int,
    like_counts: Mapping[str, int],
) -> CommentsView:
    threads = build_threads(comments, order=order, like_counts=like_counts)
    pages = max(1, math.ceil(len(threads) / per_page))
    page = min(max(page, 1), pages)  # a stale ?page=9 shows the last page, not an empty one
    on_page, has_next = page_threads(threads, page, per_page)

    def link(number: int, sort: SortOrder) -> str:
        query = f"sort={sort.value}" if number == 1 else f"page={number}&sort={sort.value}"
        return f"{article_url}?{query}#comments"

    return CommentsView(
        threads=on_page,
        count=count_shown(threads),
        sort_links=tuple(
            SortLink(label, link(1, sort), sort is order) for sort, label in SORT_LABELS.items()
        ),
        page=page,
        pages=pages,
        previous=link(page - 1, order) if page > 1 else None,
        next=link(page + 1, order) if has_next else None,
        by_id={node.comment.id: node.comment for node in _walk(on_page)},
        likes=like_counts,
    )


# --- the comments as JSON, for embedding ---------------------------------------------------


def _person_json(person: Person) -> dict[str, object]:
    return {
        "id": person.id,
        "name": person.name,
        "handle": person.handle,
        "url": web_url(person.url),
        "avatar": web_url(person.avatar),
    }


def _comment_json(node: ThreadNode) -> dict[str, object]:
    comment = node.comment
    deleted = comment.state is CommentState.DELETED
    return {
        "id": comment.id,
        "url": web_url(comment.url),
        "in_reply_to": comment.parent_id,
        "deleted": deleted,
        # A deleted comment stays as a placeholder while replies hang below it: nothing of it.
        "author": None if deleted else _person_json(comment.author),
        "by_author": comment.is_local,
        "content_html": "" if deleted else comment.content_html,
        "summary": None if deleted else comment.summary,
        "sensitive": comment.sensitive,
        "language": comment.language,
        "published": iso_utc(comment.published),
        "updated": iso_utc(comment.updated) if comment.updated else None,
        "attachments": []
        if deleted
        else [
            {"url": url, "media_type": a.media_type, "name": a.name, "kind": a.kind}
            for a in comment.attachments
            if (url := web_url(a.url))
        ],
        "emojis": []
        if deleted
        else [
            {"shortcode": code, "url": url}
            for code, image in comment.emojis
            if (url := web_url(image)) and _SHORTCODE.fullmatch(code)
        ],
        "replies": [_comment_json(child) for child in node.children],
    }


def _people_json(people: People) -> dict[str, object]:
    return {"count": people.count, "people": [_person_json(p) for p in people.shown]}


def comments_document(
    article_url: str,
    comments: Sequence[Comment],
    reactions: Sequence[Reaction],
    *,
    order: SortOrder,
) -> dict[str, object]:
    """An article's public comments and reactions as JSON (`/posts/SLUG/comments.json`):

        {
          "article": "https://blog.example/posts/slug",
          "sort": "oldest",                     # or "newest", "liked" (?sort=)
          "counts": {"comments": 3, "likes": 5, "boosts": 1},
          "reactions": {
            "likes":  {"count": 5, "people": [PERSON, ...]},   # the first 20 people
            "boosts": {"count": 1, "people": [PERSON, ...]},
            "emoji":  [{"emoji": "🎉", "count": 2}, ...]       # most used first
          },
          "comments": [COMMENT, ...]            # top-level, in `sort` order
        }
        PERSON  = {"id", "name", "handle", "url", "avatar"}      # url, avatar: http(s) or null
        COMMENT = {"id", "url", "in_reply_to",                  # the parent's id, or null
                   "deleted",                                   # a placeholder: no author/content
                   "author": PERSON | null, "by_author",        # true: the blog's author replied
                   "content_html",                              # sanitized HTML, safe to insert
                   "summary", "sensitive", "language",          # summary: the content warning
                   "published", "updated",                      # ISO 8601 UTC; updated may be null
                   "attachments": [{"url", "media_type", "name", "kind"}],
                   "emojis": [{"shortcode", "url"}],            # custom emoji used in name/content
                   "replies": [COMMENT, ...]}                   # oldest first

    Threads are those of the article page: replies deeper than four levels are listed under the
    fourth, `in_reply_to` naming the comment they answer. Names, handles and summaries are plain
    text from other servers: escape them when inserting.
    """
    threads = build_threads(comments, order=order)
    rating = rating_of(reactions)
    return {
        "article": article_url,
        "sort": order.value,
        "counts": {
            "comments": count_shown(threads),
            "likes": rating.likes.count,
            "boosts": rating.boosts.count,
        },
        "reactions": {
            "likes": _people_json(rating.likes),
            "boosts": _people_json(rating.boosts),
            "emoji": [{"emoji": emoji, "count": count} for emoji, count in rating.emojis],
        },
        "comments": [_comment_json(node) for node in threads],
    }
