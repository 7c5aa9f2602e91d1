"""The author's side of the conversation: replying to comments (federated), replies found in
the threads' own collections, moderation modes, and being told of new comments."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.cli import main
from fedipub.keys import KeySet
from tests.federation.worlds import World, running_world
from tests.peers import running_peer
from tests.servers import free_port


def test_the_author_replies_to_a_comment(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.send(world.follow())
    world.deliver()
    note = world.note(world.alice, world.article_url(), "<p>A question?</p>")
    world.send(world.wrap("Create", world.alice, note))
    capsys.readouterr()
    data = str(world.blog.data_dir)
    assert main(["reply", "--data", data, note["id"], "An **answer**."]) == 0
    reply_id = capsys.readouterr().out.strip()
    assert reply_id.startswith(f"{world.blog.base_url}/replies/")
    page = world.page()
    assert page.index("A question?") < page.index("<strong>answer</strong>")
    world.deliver()
    [create] = [c for c in world.received("Create") if c["object"]["id"] == reply_id]
    assert create["object"]["inReplyTo"] == note["id"]
    assert create["object"]["tag"][0]["href"] == world.alice.id
    assert "proof" in create
    # The commenter's server and the followers' server are one shared inbox: one request.
    posts = [p.path for p in world.peer.inbox_posts() if b'"Create"' in p.body]
    assert posts == ["/inbox"]
    resolved = httpx.get(
        reply_id.replace(world.blog.base_url, world.base),
        headers={"Accept": "application/activity+json"},
    )
    assert resolved.json()["inReplyTo"] == note["id"]


def test_replies_that_never_reached_us_are_found_in_the_thread(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    bob = world.user("bob")
    replies_url = world.peer.url("/statuses/parent/replies")
    note = world.note(
        world.alice,
        world.article_url(),
        "<p>Parent</p>",
        replies={"id": replies_url, "type": "Collection"},
    )
    world.send(world.wrap("Create", world.alice, note))
    hidden_reply = world.note(bob, note["id"], "<p>Bob answered alice, not us</p>")
    world.peer.put(hidden_reply["id"].removeprefix(world.peer.base), hidden_reply)
    stray = world.note(bob, world.peer.url("/statuses/other"), "<p>Not in this thread</p>")
    world.peer.put(stray["id"].removeprefix(world.peer.base), stray)
    world.peer.put(
        "/statuses/parent/replies",
        {
            "id": replies_url,
            "type": "Collection",
            "first": {
                "type": "CollectionPage",
                "partOf": replies_url,
                "items": [hidden_reply["id"], stray["id"]],
            },
        },
    )
    capsys.readouterr()
    assert main(["fetch-replies", "--data", str(world.blog.data_dir)]) == 0
    assert capsys.readouterr().out.startswith("1 new comment")
    page = world.page()
    assert "Bob answered alice, not us" in page
    assert "Not in this thread" not in page
    context = world.collection("hello-world", "context")["orderedItems"]
    assert hidden_reply["id"] in context


@pytest.fixture
def held(tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey) -> Iterator[World]:
    with running_world(tmp_path, keyset, peer_key, moderation="first-time") as built:
        yield built


def test_first_time_commenters_are_held_until_approved(
    held: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = held
    first = world.note(world.alice, world.article_url(), "<p>My first comment</p>")
    assert world.send(world.wrap("Create", world.alice, first)).status_code == 202
    assert "My first comment" not in world.page()
    data = str(world.blog.data_dir)
    capsys.readouterr()
    assert main(["comments", "--data", data, "--pending"]) == 0
    assert first["id"] in capsys.readouterr().out
    assert main(["comments", "--data", data, "approve", first["id"]]) == 0
    assert "My first comment" in world.page()
    second = world.note(world.alice, world.article_url(), "<p>Trusted now</p>")
    world.send(world.wrap("Create", world.alice, second))
    assert "Trusted now" in world.page()
    assert main(["comments", "--data", data, "hide", second["id"]]) == 0
    assert "Trusted now" not in world.page()
    assert main(["comments", "--data", data, "delete", first["id"]]) == 0
    assert "My first comment" not in world.page()
    capsys.readouterr()
    assert main(["comments", "--data", data, "approve", "https://nowhere.example/1"]) == 1
    assert "no comment" in capsys.readouterr().err


def test_new_comments_and_followers_are_notified(
    tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey
) -> None:
    with running_peer() as hooks:
        url = hooks.url("/hook")
        with running_world(tmp_path, keyset, peer_key, notify_webhook_url=url) as world:
            world.send(world.follow())
            note = world.note(world.alice, world.article_url(), "<p>Ping</p>")
            world.send(world.wrap("Create", world.alice, note))
        # Leaving the block stops the server, which waits for notifications in flight.
        kinds = [orjson.loads(r.body)["kind"] for r in hooks.inbox_posts()]
    assert kinds == ["follower", "comment"]


def test_new_comments_are_emailed(
    tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey
) -> None:
    received: list[Message] = []

    class Inbox:
        async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
            content = envelope.content or b""
            raw = content.encode() if isinstance(content, str) else content
            received.append(message_from_bytes(raw))
            return "250 OK"

    port = free_port()
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        settings: dict[str, Any] = {
            "notify_email": "author@blog.example",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "smtp_from": "fedipub@blog.example",
        }
        with running_world(tmp_path, keyset, peer_key, **settings) as world:
            note = world.note(world.alice, world.article_url(), "<p>Hello by mail</p>")
            world.send(world.wrap("Create", world.alice, note))
    finally:
        smtp.stop()
    [message] = received
    assert message["To"] == "author@blog.example"
    assert "commented on" in str(message["Subject"])
    assert note["url"] in message.get_payload()
