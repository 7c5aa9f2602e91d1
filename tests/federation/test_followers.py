"""Following the blog from another server: a signed Accept comes back; with manual approval
the request waits for the admin; unfollowing, moving and deleting accounts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from fedipub.cli import main
from fedipub.keys import KeySet
from fedipub.signatures import parse_request_signature, verify_signed_request
from tests.federation.worlds import AS2, World, running_world


def _followers(world: World, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert main(["followers", "--data", str(world.blog.data_dir)]) == 0
    return capsys.readouterr().out.splitlines()[1:]


def test_follow_gets_a_signed_accept_and_unfollow_removes(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    follow = world.follow()
    assert world.send(follow).status_code == 202
    assert world.deliver() == 1
    [accept] = world.received("Accept")
    assert accept["actor"] == f"{world.blog.base_url}/users/blog"
    assert accept["object"]["id"] == follow["id"]
    post = world.peer.inbox_posts()[-1]
    assert post.path == "/users/alice/inbox"  # the follower's own inbox
    signed = parse_request_signature(
        method="POST",
        target=post.path,
        url=world.peer.url(post.path),
        headers=post.headers,
        body=post.body,
        now=int(time.time()),
    )
    actor = httpx.get(f"{world.base}/users/blog", headers={"Accept": AS2}).json()
    assert signed.key_id == actor["publicKey"]["id"]
    verify_signed_request(signed, load_pem_public_key(actor["publicKey"]["publicKeyPem"].encode()))
    [row] = _followers(world, capsys)
    assert row.split()[:2] == [world.alice.id, "accepted"]
    undo = world.wrap("Undo", world.alice, follow)
    assert world.send(undo).status_code == 202
    assert _followers(world, capsys) == []


@pytest.fixture
def manual(tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey) -> Iterator[World]:
    with running_world(tmp_path, keyset, peer_key, manually_approves_followers=True) as built:
        yield built


def test_manual_approval_holds_then_accepts_or_rejects(
    manual: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = manual
    assert world.send(world.follow()).status_code == 202
    assert world.deliver() == 0
    [row] = _followers(world, capsys)
    assert "pending" in row
    data = str(world.blog.data_dir)
    assert main(["follow-requests", "--data", data, "approve", world.alice.id]) == 0
    world.deliver()
    assert len(world.received("Accept")) == 1
    bob = world.user("bob")
    assert world.send(world.follow(actor=bob.id), by=bob).status_code == 202
    assert main(["follow-requests", "--data", data, "reject", bob.id]) == 0
    world.deliver()
    assert len(world.received("Reject")) == 1
    rows = _followers(world, capsys)
    assert [r.split()[0] for r in rows] == [world.alice.id]
    capsys.readouterr()
    assert main(["follow-requests", "--data", data, "approve", bob.id]) == 1
    assert "no pending follow request" in capsys.readouterr().err


def test_a_follower_moving_with_proof_is_moved(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.send(world.follow())
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    new = world.peer.add_actor("alice2", new_key, alsoKnownAs=[world.alice.id])
    move = world.wrap("Move", world.alice, world.alice.id, target=new["id"])
    assert world.send(move).status_code == 202
    [row] = _followers(world, capsys)
    assert row.split()[0] == new["id"]


def test_a_move_without_proof_is_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.send(world.follow())
    impostor = world.user("impostor")
    move = world.wrap("Move", world.alice, world.alice.id, target=impostor.id)
    assert world.send(move).status_code == 403
    [row] = _followers(world, capsys)
    assert row.split()[0] == world.alice.id


def test_profile_update_refreshes_comment_authors(world: World) -> None:
    note = world.note(world.alice, world.article_url(), "<p>Hi</p>")
    world.send(world.wrap("Create", world.alice, note))
    renamed = {**world.actor, "name": "Alice Renamed"}
    world.peer.put("/users/alice", renamed)
    assert world.send(world.wrap("Update", world.alice, renamed)).status_code == 202
    assert "Alice Renamed" in world.page()


def test_account_deletion_removes_comments_likes_and_follow(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.send(world.follow())
    world.send(
        world.wrap(
            "Create", world.alice, world.note(world.alice, world.article_url(), "<p>Bye</p>")
        )
    )
    world.send(world.wrap("Like", world.alice, world.article_url()))
    assert world.send(world.wrap("Delete", world.alice, world.alice.id)).status_code == 202
    assert "Bye" not in world.page()
    assert world.note_document()["likes"]["totalItems"] == 0
    assert _followers(world, capsys) == []


def test_a_report_is_kept_for_the_admin(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    flag = world.wrap("Flag", world.alice, [world.article_url()], content="Spam?")
    assert world.send(flag).status_code == 202
    capsys.readouterr()
    assert main(["mentions", "--data", str(world.blog.data_dir)]) == 0
    out = capsys.readouterr().out
    assert "report" in out
    assert "Spam?" in out


def test_emoji_reactions_count(world: World) -> None:
    react = world.wrap("EmojiReact", world.alice, world.article_url(), content="🎉")
    assert world.send(react).status_code == 202
    assert "🎉" in world.page()
