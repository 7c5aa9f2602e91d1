"""The AS2 documents we build, compared with the shapes real Mastodon servers produce."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fedipub.activities import (
    build_actor,
    build_collection,
    build_collection_page,
    build_create,
    build_delete,
    build_instance_actor,
    build_note,
    build_update,
)
from fedipub.article_source import parse_article_source, render_markdown
from fedipub.config import ProfileLink, Settings, settings_from_mapping
from fedipub.types import Article, Tombstone
from fedipub.urls import Urls
from fedipub.vocab import AS_PUBLIC
from tests.blogs import ARTICLE, FIXTURES

WHEN = datetime(2026, 11, 20, 10, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_from_mapping(
        tmp_path,
        {
            "domain": "blog.example",
            "display_name": "Blog",
            "summary": "Line <one>\n\nLine two",
            "icon_url": "/media/me.png",
            "profile_links": [{"name": "Site", "url": "https://me.example"}],
            "also_known_as": ["https://old.example/users/me"],
        },
    )


@pytest.fixture
def urls() -> Urls:
    return Urls(base="https://blog.example", username="blog")


def _article(**changes: Any) -> Article:
    source = parse_article_source(ARTICLE)
    article = Article(
        id=1,
        slug=source.slug,
        title=source.title,
        body_markdown=source.body_markdown,
        body_html=render_markdown(source.body_markdown),
        summary=source.summary,
        tags=source.tags,
        language=source.language,
        content_warning=source.content_warning,
        images=source.images,
        published=WHEN,
        updated=None,
        source_hash="x",
    )
    return replace(article, **changes)


def _actor(settings: Settings, urls: Urls) -> dict[str, Any]:
    return build_actor(
        settings, urls, public_key_pem="PEM", ed25519_multikey="z6Mk", published=WHEN
    )


def test_actor_has_every_field_of_a_mastodon_actor_with_the_same_types(
    settings: Settings, urls: Urls
) -> None:
    mastodon = json.loads((FIXTURES / "actors/mastodon-actor.json").read_text())
    ours = _actor(settings, urls)
    for key, value in mastodon.items():
        if key in ("devices",):  # E2EE device collections: not for a blog
            continue
        assert key in ours, key
        assert type(ours[key]) is type(value), key
    assert set(mastodon["publicKey"]) <= set(ours["publicKey"])


def test_actor_document(settings: Settings, urls: Urls) -> None:
    actor = _actor(settings, urls)
    assert actor["id"] == "https://blog.example/users/blog"
    assert actor["type"] == "Person"
    assert actor["preferredUsername"] == "blog"
    assert actor["url"] == "https://blog.example/"
    assert actor["summary"] == "<p>Line &lt;one&gt;</p><p>Line two</p>"
    assert actor["endpoints"] == {"sharedInbox": "https://blog.example/inbox"}
    assert actor["publicKey"] == {
        "id": "https://blog.example/users/blog#main-key",
        "owner": "https://blog.example/users/blog",
        "publicKeyPem": "PEM",
    }
    assert actor["assertionMethod"] == [
        {
            "id": "https://blog.example/users/blog#ed25519-key",
            "type": "Multikey",
            "controller": "https://blog.example/users/blog",
            "publicKeyMultibase": "z6Mk",
        }
    ]
    assert actor["icon"] == {
        "type": "Image",
        "url": "https://blog.example/media/me.png",
        "mediaType": "image/png",
    }
    assert actor["alsoKnownAs"] == ["https://old.example/users/me"]
    [field] = actor["attachment"]
    assert field["type"] == "PropertyValue"
    assert field["name"] == "Site"
    assert 'href="https://me.example"' in field["value"]
    assert 'rel="me' in field["value"]
    assert actor["published"] == "2026-11-20T10:00:00Z"
    for key in ("manuallyApprovesFollowers", "discoverable", "indexable"):
        assert isinstance(actor[key], bool)


def test_instance_actor_is_an_application_with_its_own_key(settings: Settings, urls: Urls) -> None:
    actor = build_instance_actor(settings, urls, public_key_pem="PEM2")
    assert actor["type"] == "Application"
    assert actor["id"] == "https://blog.example/actor"
    assert actor["publicKey"]["id"] == "https://blog.example/actor#main-key"
    assert actor["preferredUsername"] == "blog.example"


def test_note_as_mastodon_expects_it(settings: Settings, urls: Urls) -> None:
    note = build_note(settings, urls, _article())
    assert note["id"] == note["url"] == "https://blog.example/posts/hello-world"
    assert note["type"] == "Note"
    assert note["attributedTo"] == urls.actor
    assert note["to"] == [AS_PUBLIC]
    assert note["cc"] == [urls.followers]
    assert note["published"] == "2026-11-20T10:00:00Z"
    assert "updated" not in note
    # The excerpt is never a `summary`: Mastodon would show it as a content warning.
    assert "summary" not in note
    assert note["sensitive"] is False
    content = note["content"]
    assert isinstance(content, str)
    assert content.startswith("<p><strong>Hello &lt;World&gt; &amp; friends</strong></p>")
    assert "<em>Markdown</em>" in content
    assert "<img" not in content and "<table" not in content
    assert content.endswith(
        '<p><a href="https://blog.example/posts/hello-world">'
        "https://blog.example/posts/hello-world</a></p>"
    )
    assert 'rel="tag"' in content
    assert note["contentMap"] == {"en": content}
    assert note["tag"] == [
        {"type": "Hashtag", "href": "https://blog.example/tags/python", "name": "#python"},
        {"type": "Hashtag", "href": "https://blog.example/tags/fediverse", "name": "#fediverse"},
    ]
    assert note["attachment"] == [
        {
            "type": "Image",
            "url": "https://blog.example/media/cat.jpg",
            "mediaType": "image/jpeg",
            "name": "A sleeping cat",
            "width": 800,
            "height": 600,
        },
        {
            "type": "Image",
            "url": "https://cdn.example/diagram.png",
            "mediaType": "image/png",
            "name": "A diagram",
        },
    ]
    for kind in ("replies", "likes", "shares"):
        assert note[kind] == {
            "id": f"https://blog.example/posts/hello-world/{kind}",
            "type": "OrderedCollection",
            "totalItems": 0,
            "first": f"https://blog.example/posts/hello-world/{kind}?page=1",
        }


def test_content_warning_and_edits(settings: Settings, urls: Urls) -> None:
    later = datetime(2026, 11, 21, tzinfo=UTC)
    note = build_note(settings, urls, _article(content_warning="Spoilers", updated=later))
    assert note["summary"] == "Spoilers"
    assert note["sensitive"] is True
    assert note["updated"] == "2026-11-21T00:00:00Z"


def test_article_type_carries_a_preview_and_a_name(settings: Settings, urls: Urls) -> None:
    note = build_note(replace(settings, article_type="Article"), urls, _article())
    assert note["type"] == "Article"
    assert note["name"] == "Hello <World> & friends"
    assert str(note["content"]).startswith("<p>A first post.</p>")
    assert "<em>" not in str(note["content"])


def test_article_preview_without_summary_is_the_start_of_the_body(
    settings: Settings, urls: Urls
) -> None:
    article = _article(summary=None, body_html="<p>" + "word " * 100 + "</p>")
    note = build_note(replace(settings, article_type="Article"), urls, article)
    assert str(note["content"]).startswith("<p>" + "word " * 39 + "word…</p>")


def test_create_update_delete_wrap_the_object(settings: Settings, urls: Urls) -> None:
    note = build_note(settings, urls, _article())
    create = build_create(urls, note, "abc")
    assert create["id"] == "https://blog.example/activities/abc"
    assert create["type"] == "Create"
    assert create["actor"] == urls.actor
    assert create["to"] == note["to"] and create["cc"] == note["cc"]
    assert "@context" not in create["object"]
    assert create["object"]["id"] == note["id"]
    update = build_update(urls, note, "def", datetime(2026, 11, 22, tzinfo=UTC))
    assert update["type"] == "Update"
    assert update["published"] == "2026-11-22T00:00:00Z"
    tombstone = Tombstone(slug="hello-world", deleted=WHEN, published=WHEN)
    delete = build_delete(settings, urls, tombstone, "ghi")
    assert delete["type"] == "Delete"
    assert delete["object"] == {
        "id": "https://blog.example/posts/hello-world",
        "type": "Tombstone",
        "formerType": "Note",
        "published": "2026-11-20T10:00:00Z",
        "deleted": "2026-11-20T10:00:00Z",
    }


def test_collections_and_pages() -> None:
    collection = build_collection("https://b.example/c", 45)
    assert collection["first"] == "https://b.example/c?page=1"
    assert collection["totalItems"] == 45
    page = build_collection_page("https://b.example/c", 2, ["x"], total=45, has_next=True)
    assert page["type"] == "OrderedCollectionPage"
    assert page["partOf"] == "https://b.example/c"
    assert page["next"] == "https://b.example/c?page=3"
    assert page["prev"] == "https://b.example/c?page=1"
    assert page["orderedItems"] == ["x"]
    first = build_collection_page("https://b.example/c", 1, [], total=0, has_next=False)
    assert "next" not in first and "prev" not in first


def test_profile_link_values_are_escaped(settings: Settings, urls: Urls) -> None:
    hostile = replace(settings, profile_links=(ProfileLink('"><x', 'https://a.example/"><b>'),))
    [field] = _actor(hostile, urls)["attachment"]
    assert "<b>" not in field["value"]
