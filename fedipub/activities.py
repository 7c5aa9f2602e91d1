"""Building the AS2 documents we serve and send: pure functions of their inputs.

AS2's camelCase stays inside these dicts; everything around them is snake_case.
"""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fedipub.config import Settings
from fedipub.html_text import excerpt
from fedipub.mentions import mention_tags
from fedipub.sanitize import to_mastodon_html
from fedipub.types import Article, Comment, Image, Tombstone
from fedipub.urls import Urls
from fedipub.vocab import AS_CONTEXT, AS_PUBLIC, CONTEXT

Document = dict[str, Any]


def iso(value: datetime) -> str:
    """AS2 dates: UTC, seconds precision, `Z` (what every peer parses)."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _paragraphs(text: str) -> str:
    return "".join(
        f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>"
        for part in text.split("\n\n")
        if part.strip()
    )


def build_actor(
    settings: Settings,
    urls: Urls,
    *,
    public_key_pem: str,
    ed25519_multikey: str,
    published: datetime,
) -> Document:
    actor: Document = {
        "@context": CONTEXT,
        "id": urls.actor,
        "type": settings.actor_type,
        "preferredUsername": settings.username,
        "name": settings.display_name,
        "summary": _paragraphs(settings.summary),
        "url": urls.home,
        "inbox": urls.inbox,
        "outbox": urls.outbox,
        "followers": urls.followers,
        "following": urls.following,
        "featured": urls.featured,
        "featuredTags": urls.featured_tags,
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "publicKey": {"id": urls.main_key, "owner": urls.actor, "publicKeyPem": public_key_pem},
        # FEP-521a: the Ed25519 key that signs our object integrity proofs (FEP-8b32).
        "assertionMethod": [
            {
                "id": urls.ed25519_key,
                "type": "Multikey",
                "controller": urls.actor,
                "publicKeyMultibase": ed25519_multikey,
            }
        ],
        "manuallyApprovesFollowers": settings.manually_approves_followers,
        "discoverable": settings.discoverable,
        "indexable": settings.indexable,
        "published": iso(published),
        "attachment": [
            {
                "type": "PropertyValue",
                "name": link.name,
                "value": f'<a href="{html.escape(link.url)}" rel="me nofollow noopener" '
                f'target="_blank">{html.escape(link.url)}</a>',
            }
            for link in settings.profile_links
        ],
        "tag": [],
    }
    if settings.also_known_as:
        actor["alsoKnownAs"] = list(settings.also_known_as)
    if settings.moved_to:
        actor["movedTo"] = settings.moved_to
    if settings.icon_url:
        actor["icon"] = _image_object(urls, Image(url=settings.icon_url, alt=""))
    if settings.image_url:
        actor["image"] = _image_object(urls, Image(url=settings.image_url, alt=""))
    return actor


def build_update_actor(urls: Urls, actor: Document, activity_id: str, now: datetime) -> Document:
    """Update{Person}: followers' servers replace their copy of the actor (a new key, new
    aliases) without waiting for their cache to expire."""
    return {
        "@context": CONTEXT,
        "id": urls.activity(activity_id),
        "type": "Update",
        "actor": urls.actor,
        "published": iso(now),
        "to": [AS_PUBLIC],
        "cc": [urls.followers],
        "object": embedded(actor),
    }


def build_move(urls: Urls, target: str, activity_id: str, now: datetime) -> Document:
    """Move: the blog's followers are asked to follow `target` instead. Mastodon moves them
    only if `target` names us in its alsoKnownAs, which it fetches itself."""
    return {
        "@context": CONTEXT,
        "id": urls.activity(activity_id),
        "type": "Move",
        "actor": urls.actor,
        "object": urls.actor,
        "target": target,
        "published": iso(now),
        "to": [urls.followers],
    }


def build_instance_actor(settings: Settings, urls: Urls, *, public_key_pem: str) -> Document:
    """The server's own actor: it signs our fetches (servers in authorized-fetch mode ask for
    a signature) and never posts. Mastodon names its own after the domain, as here."""
    return {
        "@context": CONTEXT,
        "id": urls.instance_actor,
        "type": "Application",
        "preferredUsername": settings.domain.split(":")[0],
        "name": settings.domain,
        "url": urls.home,
        "inbox": urls.shared_inbox,
        "outbox": f"{urls.instance_actor}/outbox",
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": True,
        "publicKey": {
            "id": urls.instance_key,
            "owner": urls.instance_actor,
            "publicKeyPem": public_key_pem,
        },
    }


def _image_object(urls: Urls, image: Image) -> Document:
    media_type = image.media_type or mimetypes.guess_type(image.url)[0]
    document: Document = {"type": "Image", "url": urls.absolute(image.url)}
    if media_type:
        document["mediaType"] = media_type
    if image.alt:
        document["name"] = image.alt
    if image.width and image.height:
        document["width"] = image.width
        document["height"] = image.height
    return document


def _hashtags_html(urls: Urls, tags: Sequence[str]) -> str:
    links = " ".join(
        f'<a href="{html.escape(urls.tag(tag))}" class="mention hashtag" rel="tag">'
        f"#<span>{html.escape(tag)}</span></a>"
        for tag in tags
    )
    return f"<p>{links}</p>" if links else ""


def build_content(settings: Settings, urls: Urls, article: Article) -> str:
    """The HTML followers see in their timeline. A Note carries the whole article (title
    first, in Mastodon's subset); an Article carries a preview, its `name` being the title.
    Either way a link back to the page ends it."""
    link = urls.article(article.slug)
    back = f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>'
    if settings.article_type == "Article":
        body = f"<p>{html.escape(article.summary or excerpt(article.body_html))}</p>"
    else:
        body = f"<p><strong>{html.escape(article.title)}</strong></p>" + to_mastodon_html(
            article.body_html
        )
    return body + _hashtags_html(urls, article.tags) + back


def build_collection_ref(collection_id: str, total: int) -> Document:
    return {
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{collection_id}?page=1",
    }


def build_note(
    settings: Settings,
    urls: Urls,
    article: Article,
    *,
    replies: int = 0,
    likes: int = 0,
    shares: int = 0,
) -> Document:
    url = urls.article(article.slug)
    content = build_content(settings, urls, article)
    note: Document = {
        "@context": CONTEXT,
        "id": url,
        "type": settings.article_type,
        "attributedTo": urls.actor,
        "url": url,
        "published": iso(article.published),
        "to": [AS_PUBLIC],
        "cc": [urls.followers, *(m.actor_id for m in article.mentions)],
        "content": content,
        # Mastodon shows `summary` as a content warning: it is set only for one.
        "sensitive": article.content_warning is not None,
        "tag": [
            *(
                {"type": "Hashtag", "href": urls.tag(tag), "name": f"#{tag}"}
                for tag in article.tags
            ),
            *mention_tags(article.mentions),
        ],
        "attachment": [_image_object(urls, image) for image in article.images],
        "replies": build_collection_ref(urls.replies(article.slug), replies),
        "likes": build_collection_ref(urls.likes(article.slug), likes),
        "shares": build_collection_ref(urls.shares(article.slug), shares),
        # FEP-7888: the conversation, dereferenceable as a collection of its posts.
        "context": urls.context(article.slug),
    }
    if settings.article_type == "Article":
        note["name"] = article.title
    if article.content_warning is not None:
        note["summary"] = article.content_warning
    if article.language:
        note["contentMap"] = {article.language: content}
    if article.updated is not None:
        # Mastodon ignores an Update whose object has no newer `updated`.
        note["updated"] = iso(article.updated)
    return note


def embedded(document: Document) -> Document:
    """A document as embedded in another: the outer one carries the @context."""
    return {key: value for key, value in document.items() if key != "@context"}


def build_create(urls: Urls, note: Document, activity_id: str) -> Document:
    return {
        "@context": CONTEXT,
        "id": urls.activity(activity_id),
        "type": "Create",
        "actor": urls.actor,
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": embedded(note),
    }


def build_update(urls: Urls, note: Document, activity_id: str, updated: datetime) -> Document:
    return {
        "@context": CONTEXT,
        "id": urls.activity(activity_id),
        "type": "Update",
        "actor": urls.actor,
        "published": iso(updated),
        "to": note["to"],
        "cc": note["cc"],
        "object": embedded(note),
    }


def build_tombstone(settings: Settings, urls: Urls, tombstone: Tombstone) -> Document:
    return {
        "@context": AS_CONTEXT,
        "id": urls.article(tombstone.slug),
        "type": "Tombstone",
        "formerType": settings.article_type,
        "published": iso(tombstone.published),
        "deleted": iso(tombstone.deleted),
    }


def build_delete(
    settings: Settings, urls: Urls, tombstone: Tombstone, activity_id: str
) -> Document:
    return {
        "@context": CONTEXT,
        "id": urls.activity(activity_id),
        "type": "Delete",
        "actor": urls.actor,
        "published": iso(tombstone.deleted),
        "to": [AS_PUBLIC],
        "cc": [urls.followers],
        "object": embedded(build_tombstone(settings, urls, tombstone)),
    }


def build_collection(collection_id: str, total: int, *, paged: bool = True) -> Document:
    """An OrderedCollection whose items live on `?page=N` pages."""
    document: Document = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if paged:
        document["first"] = f"{collection_id}?page=1"
    else:
        document["orderedItems"] = []
    return document


def build_collection_page(
    collection_id: str,
    page: int,
    items: Sequence[object],
    *,
    total: int,
    has_next: bool,
) -> Document:
    document: Document = {
        "@context": CONTEXT,
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": list(items),
    }
    if has_next:
        document["next"] = f"{collection_id}?page={page + 1}"
    if page > 1:
        document["prev"] = f"{collection_id}?page={page - 1}"
    return document


def build_accept(urls: Urls, follow: Document, activity_id: str) -> Document:
    """Accept{Follow}, embedding the Follow as received (Mastodon matches on its id)."""
    return {
        "@context": AS_CONTEXT,
        "id": urls.activity(activity_id),
        "type": "Accept",
        "actor": urls.actor,
        "object": follow,
    }


def build_reject(urls: Urls, follow: Document, activity_id: str) -> Document:
    return {**build_accept(urls, follow, activity_id), "type": "Reject"}


def build_reply_note(
    settings: Settings,
    urls: Urls,
    reply_id: str,
    *,
    parent: Comment,
    body_html: str,
    published: datetime,
) -> Document:
    """The author's reply to a comment: a Note by the blog, in reply to the comment and
    mentioning its author (Mastodon notifies on the Mention tag, shows the h-card link)."""
    note_id = urls.reply(reply_id)
    username = parent.author.handle.lstrip("@").split("@")[0]
    mention = (
        f'<span class="h-card"><a href="{html.escape(parent.author.url)}" '
        f'class="u-url mention">@<span>{html.escape(username)}</span></a></span>'
    )
    return {
        "@context": CONTEXT,
        "id": note_id,
        "type": "Note",
        "attributedTo": urls.actor,
        "url": note_id,
        "inReplyTo": parent.id,
        "published": iso(published),
        "to": [AS_PUBLIC],
        "cc": [urls.followers, parent.author.id],
        "content": f"<p>{mention}</p>{body_html}",
        "tag": [{"type": "Mention", "href": parent.author.id, "name": parent.author.handle}],
        "sensitive": False,
    }
