"""Posts (Note, Article, Page, Question, Video…) as they become comments under an article:
sanitized HTML, plain-text content warning and title, checked links and media."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedipub.errors import MalformedError
from fedipub.parse.tags import Emoji, Mention, parse_emojis, parse_hashtags, parse_mentions
from fedipub.parse.values import (
    ALT_TEXT_LENGTH,
    DISPLAY_NAME_LENGTH,
    SUMMARY_LENGTH,
    as_list,
    check_size,
    clean_text,
    dimension,
    first_actor,
    first_id,
    html_url,
    http_url,
    kind_of,
    language_tag,
    links_of,
    localized,
    optional_datetime,
    parse_datetime,
    recipients,
    required_url,
    same_host,
    text_of,
    visibility_of,
)
from fedipub.sanitize import sanitize_remote_html
from fedipub.types import Visibility

# Mastodon's ActivityPub::Activity SUPPORTED_TYPES (Note, Question) and CONVERTED_TYPES.
# ChatMessage (Pleroma's, Lemmy 0.19's) is left out: a private chat line, never a reply.
NOTE_TYPES = frozenset({"Note", "Question", "Article", "Page", "Image", "Audio", "Video", "Event"})
TITLE_LENGTH = 3 * DISPLAY_NAME_LENGTH
_MEDIA_TYPE = re.compile(r"[\w.+-]{1,64}/[\w.+-]{1,128}")
_BLURHASH = re.compile(r"[0-9A-Za-z#$%*+,.:;=?@\[\]^_{|}~-]{6,100}")
_MEDIA_KINDS = frozenset({"image", "video", "audio"})
_KINDS_BY_TYPE = {"Image": "image", "Video": "video", "Audio": "audio", "Link": "link"}


@dataclass(frozen=True)
class Attachment:
    url: str
    media_type: str | None
    name: str  # the alt text, plain
    kind: str  # "image" | "video" | "audio" | "link" | "document"
    width: int | None
    height: int | None
    blurhash: str | None


@dataclass(frozen=True)
class RemoteNote:
    id: str
    type: str
    attributed_to: str
    in_reply_to: str | None
    content_html: str  # sanitized
    summary: str | None  # the content warning (or an Article's abstract), plain
    sensitive: bool
    language: str | None
    published: datetime
    updated: datetime | None
    url: str  # the web page on the author's server, else the id
    to: tuple[str, ...]
    cc: tuple[str, ...]
    visibility: Visibility
    attachments: tuple[Attachment, ...]
    emojis: tuple[Emoji, ...]
    mentions: tuple[Mention, ...]
    hashtags: tuple[str, ...]
    context: str | None  # FEP-7888's thread, or Pleroma's `conversation` when it is a URL
    replies: str | None  # the replies collection's id
    name: str | None  # the title, plain


def _media_type(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and _MEDIA_TYPE.fullmatch(value) else None


def _attachment(entry: Any) -> Attachment | None:
    if not isinstance(entry, dict):
        return None
    kind = entry.get("type")
    # Lemmy and lotide attach links as the Link itself; Mastodon's Documents carry a `url`.
    links = links_of(entry if kind == "Link" else entry.get("url"))
    if not links:
        return None
    url, link_type = links[0]
    media_type = _media_type(entry.get("mediaType")) or _media_type(link_type)
    major = media_type.split("/", 1)[0] if media_type else None
    blurhash = entry.get("blurhash")
    return Attachment(
        url=url,
        media_type=media_type,
        name=text_of(entry.get("name"), ALT_TEXT_LENGTH),
        kind=major if major in _MEDIA_KINDS else _KINDS_BY_TYPE.get(str(kind), "document"),
        width=dimension(entry.get("width")),
        height=dimension(entry.get("height")),
        blurhash=blurhash if isinstance(blurhash, str) and _BLURHASH.fullmatch(blurhash) else None,
    )


def parse_attachments(value: Any) -> tuple[Attachment, ...]:
    """Attachments with an http(s) URL; any other (data:, javascript:, relative) is dropped."""
    return tuple(found for entry in as_list(value) if (found := _attachment(entry)) is not None)


def _content_html(content: str, media_type: Any) -> str:
    check_size(content, "content")
    declared = media_type.split(";", 1)[0].strip().lower() if isinstance(media_type, str) else ""
    if declared not in ("", "text/html"):
        # PeerTube's comments and videos are Markdown (mediaType text/markdown): shown as the
        # text they are rather than read as HTML.
        content = "".join(
            f"<p>{html.escape(part.strip()).replace(chr(10), '<br>')}</p>"
            for part in content.replace("\r\n", "\n").split("\n\n")
            if part.strip()
        )
    return sanitize_remote_html(content)


def _plain(value: str | None, max_length: int) -> str | None:
    return (clean_text(value, max_length) or None) if value else None


def _language(document: dict[str, Any], from_map: str | None) -> str | None:
    # Lemmy and PeerTube send no contentMap but {"identifier": "fr", "name": "Français"}.
    lemmy = document.get("language")
    return from_map or language_tag(lemmy.get("identifier") if isinstance(lemmy, dict) else None)


def parse_note(document: dict[str, Any]) -> RemoteNote:
    """A post. Its id, author (`attributedTo`: a bare id, an actor, or a list whose first actor
    counts) and `published` date are required; a post without a date (Kroeg's, Mastodon's poll
    votes) cannot be placed in a thread and is refused. `content` is authoritative: Misskey's
    `_misskey_content` and everyone's `source` are ignored."""
    note_id = required_url(document.get("id"), "object id")
    kind = kind_of(document.get("type"), NOTE_TYPES)
    if kind not in NOTE_TYPES:
        raise MalformedError(f"a {kind or 'typeless object'} is not a post")
    author = required_url(first_actor(document.get("attributedTo")), "attributedTo")
    if document.get("published") is None:
        raise MalformedError("published is missing")
    content, content_language = localized(document, "content")
    summary, _ = localized(document, "summary")
    name, _ = localized(document, "name")
    page = html_url(document.get("url"))
    to, cc = recipients(document.get("to")), recipients(document.get("cc"))
    tags = document.get("tag")
    return RemoteNote(
        id=note_id,
        type=kind,
        attributed_to=author,
        in_reply_to=http_url(first_id(document.get("inReplyTo"))),
        content_html=_content_html(content or "", document.get("mediaType")),
        summary=_plain(summary, SUMMARY_LENGTH),
        sensitive=document.get("sensitive") is True,
        language=_language(document, content_language),
        published=parse_datetime(document["published"], "published"),
        updated=optional_datetime(document.get("updated")),
        # A `url` on another host would let a post link its "original" anywhere.
        url=page if page is not None and same_host(page, note_id) else note_id,
        to=to,
        cc=cc,
        visibility=visibility_of(to, cc),
        attachments=parse_attachments(document.get("attachment")),
        emojis=parse_emojis(tags),
        mentions=parse_mentions(tags),
        hashtags=parse_hashtags(tags),
        context=http_url(first_id(document.get("context")))
        or http_url(first_id(document.get("conversation"))),
        replies=http_url(first_id(document.get("replies"))),
        name=_plain(name, TITLE_LENGTH),
    )
