"""Hostile input to the inbox: each gets the right 4xx or a harmless 202, and changes
nothing it should not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.cli import main
from fedipub.keys import KeySet
from tests.federation.worlds import World, running_world
from tests.peers import signed_headers


def _replies(world: World) -> list[str]:
    items: list[str] = world.collection("hello-world", "replies")["orderedItems"]
    return items


def test_an_activity_id_on_another_origin_is_refused(world: World) -> None:
    note = world.note(world.alice, world.article_url(), "<p>x</p>")
    create = world.wrap("Create", world.alice, note, id="https://elsewhere.example/a/1")
    assert world.send(create).status_code == 401
    assert _replies(world) == []


def test_an_object_on_another_origin_is_refused(world: World) -> None:
    note = world.note(world.alice, world.article_url(), "<p>x</p>", id="https://victim.example/s/1")
    assert world.send(world.wrap("Create", world.alice, note)).status_code == 401
    assert _replies(world) == []


def test_a_note_attributed_to_someone_else_is_refused(world: World) -> None:
    bob = world.user("bob")
    note = world.note(bob, world.article_url(), "<p>in bob's name</p>")
    assert world.send(world.wrap("Create", world.alice, note)).status_code == 403
    assert _replies(world) == []


def test_deeply_nested_json_is_refused_quickly(world: World) -> None:
    body = b'{"a":' * 5000 + b"1" + b"}" * 5000
    headers = signed_headers("POST", world.inbox, body, world.key, world.key_id)
    response = httpx.post(world.inbox, content=body, headers=headers)
    assert response.status_code == 400
    assert "depth" in response.json()["error"]


def test_blocked_actors_and_domains_are_ignored_and_purged(world: World) -> None:
    note = world.note(world.alice, world.article_url(), "<p>Before the block</p>")
    world.send(world.wrap("Create", world.alice, note))
    assert main(["block", "--data", str(world.blog.data_dir), "actor", world.alice.id]) == 0
    assert "Before the block" not in world.page()
    later = world.note(world.alice, world.article_url(), "<p>After the block</p>")
    assert world.send(world.wrap("Create", world.alice, later)).status_code == 202
    assert "After the block" not in world.page()
    bob = world.user("bob")
    assert main(["block", "--data", str(world.blog.data_dir), "domain", "127.0.0.1"]) == 0
    from_bob = world.note(bob, world.article_url(), "<p>Bob on a blocked domain</p>")
    assert world.send(world.wrap("Create", bob, from_bob), by=bob).status_code == 202
    assert _replies(world) == []


def test_keyword_blocks_reject_matching_replies(world: World) -> None:
    assert main(["block", "--data", str(world.blog.data_dir), "keyword", "casino"]) == 0
    spam = world.note(world.alice, world.article_url(), "<p>Best CASINO bonus</p>")
    assert world.send(world.wrap("Create", world.alice, spam)).status_code == 202
    assert _replies(world) == []


HOSTILE = (
    '<p>hi<script>alert(1)</script><img src=x onerror="alert(2)">'
    '<a href="javascript:alert(3)">click</a><span style="position:fixed">s</span>'
    '<svg onload="alert(4)"></svg><iframe src="https://evil.example"></iframe></p>'
)


def test_injection_in_content_names_emoji_and_attachments_is_neutralised(world: World) -> None:
    evil = world.user("evil")
    evil.actor["name"] = '<script>alert("name")</script>Evil\u202egnp.exe\u200b'
    evil.actor["icon"] = {"type": "Image", "url": "javascript:alert(5)"}
    world.peer.put("/users/evil", evil.actor)
    note = world.note(
        evil,
        world.article_url(),
        HOSTILE + ' :blob" onmouseover="x:',
        summary='<b onmouseover="x">CW</b>',
        sensitive=True,
        tag=[
            {
                "type": "Emoji",
                "name": ':blob" onmouseover="x:',
                "icon": {"type": "Image", "url": "javascript:alert(6)"},
            }
        ],
        attachment=[
            {"type": "Document", "mediaType": "image/svg+xml", "url": "data:image/svg+xml,<svg/>",
             "name": '<img src=x onerror="alert(7)">'},
            {"type": "Document", "mediaType": "text/html", "url": "https://evil.example/x.html",
             "name": '"><script>alert(8)</script>'},
        ],
    )  # fmt: skip
    assert world.send(world.wrap("Create", evil, note), by=evil).status_code == 202
    page = world.page()
    comments = page[page.index('id="comments"') :]
    assert "<script>" not in comments.replace(
        '<script src="/static/comments.js" defer></script>', ""
    )
    assert not re.search(r"<[^>]+\son\w+\s*=", comments)
    assert "javascript:" not in comments
    assert "style=" not in comments
    assert "<iframe" not in comments
    assert "<svg" not in comments
    assert "data:image/svg" not in comments
    assert "\u202e" not in comments
    assert "\u200b" not in comments


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b'"a string"', b'{"type": "Create"}', b'{"id": 1, "type": "Like", "actor": 2}'],
)
def test_malformed_activities_are_400_before_any_signature_work(world: World, body: bytes) -> None:
    headers = signed_headers("POST", world.inbox, body, world.key, world.key_id)
    assert httpx.post(world.inbox, content=body, headers=headers).status_code == 400
    assert world.peer.fetches_of("/users/alice") == 0


def test_follow_of_an_unknown_local_actor_is_404(world: World) -> None:
    follow = world.follow(object=f"{world.blog.base_url}/users/nobody")
    assert world.send(follow).status_code == 404
    assert world.send(world.follow(), by=None).status_code == 202


def test_the_inbox_log_says_why(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    note = world.note(world.alice, world.peer.url("/statuses/elsewhere"), "<p>x</p>", cc=[])
    world.send(world.wrap("Create", world.alice, note))
    unsigned = orjson.dumps(world.wrap("Like", world.alice, world.article_url()))
    httpx.post(world.inbox, content=unsigned)
    capsys.readouterr()
    assert main(["inbox-log", "--data", str(world.blog.data_dir)]) == 0
    out = capsys.readouterr().out
    assert "not a reply to this blog" in out
    assert "rejected" in out
    assert "not signed" in out


@pytest.fixture
def limited(tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey) -> Iterator[World]:
    with running_world(tmp_path, keyset, peer_key, inbox_rate=1, inbox_burst=1) as built:
        yield built


def test_one_host_sending_too_much_is_told_to_wait(limited: World) -> None:
    world = limited
    # One request allowed, then one a second: the next one, right after, must wait.
    assert world.send(world.wrap("Like", world.alice, world.article_url())).status_code == 202
    response = world.send(world.wrap("Like", world.alice, world.article_url()))
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
