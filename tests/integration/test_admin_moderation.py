"""Moderating from the admin web, on comments and follows that arrived through real signed
inbox deliveries from a fediverse peer on loopback: what the admin does shows on the article
page, and what must be federated is queued and delivered."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.keys import KeySet
from fedipub.types import BlockKind
from tests.admins import admin_world, deliver, post_action, queued, run_store
from tests.federation.worlds import World


@pytest.fixture(scope="module")
def peer_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def comment_from_alice(world: World, text: str) -> str:
    note = world.note(world.alice, world.article_url(), f"<p>{text}</p>")
    assert world.send(world.wrap("Create", world.alice, note)).status_code == 202
    return str(note["id"])


def test_hiding_a_comment_takes_it_off_the_article_page(
    tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    with admin_world(tmp_path, keyset, peer_key, monkeypatch) as (world, http):
        comment_id = comment_from_alice(world, "Lovely article")
        assert "Lovely article" in world.page()
        shown = http.get("/admin/comments?state=shown").text
        assert f'data-comment-id="{comment_id}"' in shown
        assert "Hello &lt;World&gt; &amp; friends" in shown  # the article it is under
        hide = post_action(
            http,
            "/admin/comments?state=shown",
            "/admin/comments/moderate",
            {"comment_id": comment_id, "action": "hide", "state": "shown"},
        )
        assert hide.status_code == 303
        assert hide.headers["location"] == "/admin/comments?state=shown&done=hide"
        assert "Lovely article" not in world.page()
        assert f'data-comment-id="{comment_id}"' in http.get("/admin/comments?state=hidden").text


def test_approving_a_held_comment_shows_it(
    tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    with admin_world(tmp_path, keyset, peer_key, monkeypatch, moderation="all") as (world, http):
        comment_id = comment_from_alice(world, "Please let me in")
        assert "Please let me in" not in world.page()
        pending = http.get("/admin/comments").text
        assert f'data-comment-id="{comment_id}"' in pending
        assert 'data-testid="approve"' in pending
        assert '<span class="count">1<span class="visually-hidden"> pending' in pending
        approve = post_action(
            http,
            "/admin/comments",
            "/admin/comments/moderate",
            {"comment_id": comment_id, "action": "approve", "state": "pending"},
        )
        assert approve.status_code == 303
        assert "Please let me in" in world.page()
        assert "Comment approved" in http.get(approve.headers["location"]).text


def test_blocking_the_author_purges_their_comments(
    tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    with admin_world(tmp_path, keyset, peer_key, monkeypatch) as (world, http):
        first = comment_from_alice(world, "First words")
        comment_from_alice(world, "Second words")
        blocked = post_action(
            http,
            "/admin/comments?state=shown",
            "/admin/comments/moderate",
            {"comment_id": first, "action": "block-author", "state": "shown"},
        )
        assert blocked.status_code == 303
        page = world.page()
        assert "First words" not in page
        assert "Second words" not in page
        blocks = run_store(world.blog, lambda store: store.moderation.blocks())
        assert [(b.kind, b.value) for b in blocks] == [(BlockKind.ACTOR, world.alice.id)]
        assert world.alice.id in http.get("/admin/blocks").text


def test_replying_as_the_author_publishes_and_federates_the_reply(
    tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    with admin_world(tmp_path, keyset, peer_key, monkeypatch) as (world, http):
        comment_id = comment_from_alice(world, "A question?")
        reply = post_action(
            http,
            "/admin/comments?state=shown",
            "/admin/comments/reply",
            {"comment_id": comment_id, "text": "An *answer*.", "state": "shown"},
        )
        assert reply.status_code == 303
        assert "An <em>answer</em>." in world.page()
        assert deliver(world.blog) >= 1
        creates = [orjson.loads(r.body) for r in world.peer.inbox_posts()]
        assert [c["object"]["inReplyTo"] for c in creates if c["type"] == "Create"] == [comment_id]
        empty = post_action(
            http,
            "/admin/comments?state=shown",
            "/admin/comments/reply",
            {"comment_id": comment_id, "text": "   ", "state": "shown"},
        )
        assert empty.status_code == 400
        assert "the reply is empty" in empty.text


# --- followers ---------------------------------------------------------------------------


def test_follow_requests_are_answered_with_accept_or_reject(
    tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {"manually_approves_followers": True}
    with admin_world(tmp_path, keyset, peer_key, monkeypatch, **settings) as (world, http):
        bob = world.user("bob")
        assert world.send(world.follow()).status_code == 202
        assert world.send(world.follow(actor=bob.id), by=bob).status_code == 202
        page = http.get("/admin/followers").text
        assert page.count('data-testid="follow-request"') == 2
        assert queued(world.blog, "Accept") == []

        def answer(actor: str, decision: str) -> httpx.Response:
            form = {"actor": actor, "decision": decision}
            return post_action(http, "/admin/followers", "/admin/followers/answer", form)

        assert answer(world.alice.id, "approve").status_code == 303
        assert answer(bob.id, "reject").status_code == 303
        accepts, rejects = queued(world.blog, "Accept"), queued(world.blog, "Reject")
        assert [a.counts.pending for a in accepts] == [1]
        assert [r.counts.pending for r in rejects] == [1]
        page = http.get("/admin/followers").text
        assert 'data-testid="follow-request"' not in page
        assert page.count('data-testid="follower"') == 1
        assert world.alice.id in page
        assert deliver(world.blog) == 2
        received = {(r.path, orjson.loads(r.body)["type"]) for r in world.peer.inbox_posts()}
        assert received == {("/users/alice/inbox", "Accept"), ("/users/bob/inbox", "Reject")}
        # Answered already: nothing to answer twice.
        assert answer(bob.id, "approve").status_code == 404
