"""WebFinger, host-meta and NodeInfo documents."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from fedipub.config import Settings, settings_from_mapping
from fedipub.nodeinfo import build_nodeinfo, build_nodeinfo_links
from fedipub.urls import Urls
from fedipub.webfinger import (
    build_host_meta_json,
    build_host_meta_xml,
    build_webfinger,
    parse_acct,
)
from tests.blogs import FIXTURES


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_from_mapping(tmp_path, {"domain": "blog.example", "icon_url": "/me.png"})


@pytest.fixture
def urls() -> Urls:
    return Urls(base="https://blog.example", username="blog")


@pytest.mark.parametrize(
    "resource",
    [
        "acct:blog@blog.example",
        "acct:BLOG@Blog.Example",
        "blog@blog.example",
        "@blog@blog.example",
        "https://blog.example/users/blog",
        "https://blog.example/",
    ],
)
def test_the_blog_is_found_by_every_form_peers_send(
    resource: str, settings: Settings, urls: Urls
) -> None:
    jrd = build_webfinger(resource, settings, urls)
    assert jrd is not None
    assert jrd["subject"] == "acct:blog@blog.example"
    links = {(link["rel"], link.get("type")): link for link in jrd["links"]}
    assert links[("self", "application/activity+json")]["href"] == urls.actor
    assert links[("http://webfinger.net/rel/profile-page", "text/html")]["href"] == urls.actor
    subscribe = links[("http://ostatus.org/schema/1.0/subscribe", None)]
    assert "{uri}" in subscribe["template"]
    assert links[("http://webfinger.net/rel/avatar", None)]["href"] == "https://blog.example/me.png"


def test_jrd_has_the_shape_of_mastodons(settings: Settings, urls: Urls) -> None:
    mastodon = json.loads(
        (FIXTURES / "discovery/mastodon-spec-activitypub-webfinger.json").read_text()
    )
    ours = build_webfinger("acct:blog@blog.example", settings, urls)
    assert ours is not None
    assert set(ours) == set(mastodon)
    mastodon_rels = {link["rel"] for link in mastodon["links"]}
    our_rels = {link["rel"] for link in ours["links"]}
    assert {
        "self",
        "http://webfinger.net/rel/profile-page",
        "http://ostatus.org/schema/1.0/subscribe",
    } <= (mastodon_rels & our_rels)


def test_instance_actor_is_found(settings: Settings, urls: Urls) -> None:
    jrd = build_webfinger("acct:blog.example@blog.example", settings, urls)
    assert jrd is not None
    assert jrd["links"][0]["href"] == "https://blog.example/actor"
    assert build_webfinger("https://blog.example/actor", settings, urls) is not None


@pytest.mark.parametrize(
    "resource",
    [
        "acct:someone@blog.example",
        "acct:blog@other.example",
        "https://other.example/users/blog",
        "acct:",
        "blog",
        "acct:@blog.example",
        "https://blog.example/users/blog/../x",
    ],
)
def test_other_resources_are_not_ours(resource: str, settings: Settings, urls: Urls) -> None:
    assert build_webfinger(resource, settings, urls) is None


def test_parse_acct() -> None:
    assert parse_acct("acct:a@b.example") == ("a", "b.example")
    assert parse_acct("@a@b.example:8000") == ("a", "b.example:8000")
    assert parse_acct("nope") is None


def test_host_meta_points_at_webfinger(urls: Urls) -> None:
    root = ET.fromstring(build_host_meta_xml(urls))
    link = root.find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
    assert link is not None
    assert link.get("template") == "https://blog.example/.well-known/webfinger?resource={uri}"
    assert build_host_meta_json(urls)["links"][0]["template"] == link.get("template")


def test_nodeinfo_validates_against_the_2_1_schema(settings: Settings, urls: Urls) -> None:
    schema = json.loads((FIXTURES / "discovery/nodeinfo-2.1.schema.json").read_text())
    document = build_nodeinfo(settings, local_posts=3, local_comments=5)
    jsonschema.validate(document, schema)
    assert document["usage"]["localPosts"] == 3
    assert document["openRegistrations"] is False
    expected = json.loads((FIXTURES / "discovery/well-known-nodeinfo.json").read_text())
    links = build_nodeinfo_links(urls)
    assert links["links"][0]["rel"] == expected["links"][0]["rel"]
    assert links["links"][0]["href"] == "https://blog.example/nodeinfo/2.1"
