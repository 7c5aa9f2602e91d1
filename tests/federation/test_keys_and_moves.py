"""Key rotation, moving out (Move), aliases for moving in, and the exports, between a blog
and a peer on loopback: what followers' servers receive, signed with which key."""

from __future__ import annotations

import csv
import io
import json
import stat
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.app import create_app
from fedipub.cli import main
from fedipub.config import load_settings
from fedipub.errors import SignatureError
from fedipub.keys import BLOG_RSA_FILE, public_pem
from fedipub.signatures import parse_request_signature, verify_signed_request
from tests.federation.worlds import World
from tests.peers import Peer, Received
from tests.servers import serve

AS2 = {"Accept": "application/activity+json"}


def _cli(world: World, *args: str) -> int:
    return main([args[0], "--data", str(world.blog.data_dir), *args[1:]])


def _followed(world: World) -> None:
    assert world.send(world.follow()).status_code == 202
    world.deliver()  # the Accept


def _post_of(peer: Peer, kind: str) -> Received:
    return next(r for r in reversed(peer.inbox_posts()) if json.loads(r.body).get("type") == kind)


def _verify(received: Received, base: str, key: rsa.RSAPublicKey) -> None:
    signed = parse_request_signature(
        method="POST",
        target=received.path,
        url=f"{base}{received.path}",
        headers=received.headers,
        body=received.body,
        now=int(time.time()),
    )
    verify_signed_request(signed, key)


def _served_actor(world: World) -> dict[str, Any]:
    """The actor as a restarted server shows it: settings and keys read again."""
    with serve(create_app(load_settings(world.blog.data_dir, {}))) as base:
        actor: dict[str, Any] = httpx.get(f"{base}/users/blog", headers=AS2).json()
    return actor


def _add_account(world: World, name: str, **extra: Any) -> str:
    """An account on the peer, findable through WebFinger; returns its address."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    actor = world.peer.add_actor(name, key, **extra)
    host = world.peer.base.removeprefix("http://")
    acct = f"acct:{name}@{host}"
    world.peer.put(
        f"/.well-known/webfinger?resource={acct}",
        {"subject": acct, "links": [{"rel": "self", "type": AS2["Accept"], "href": actor["id"]}]},
        content_type="application/jrd+json",
    )
    return f"@{name}@{host}"


def test_after_rotation_followers_get_the_new_key_signed_with_it(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _followed(world)
    folder = world.blog.key_folder
    old_pem = (folder / BLOG_RSA_FILE).read_bytes()
    old_key = serialization.load_pem_private_key(old_pem, password=None)
    assert isinstance(old_key, rsa.RSAPrivateKey)

    assert _cli(world, "keys", "rotate") == 0
    out = capsys.readouterr().out
    assert "restart the server and the worker" in out

    # The old private key is kept, 0600, for the grace period; a new one replaced it.
    (kept,) = (folder / "previous").glob("blog-rsa-*.pem")
    assert kept.read_bytes() == old_pem
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / BLOG_RSA_FILE).stat().st_mode) == 0o600
    new_key = serialization.load_pem_private_key((folder / BLOG_RSA_FILE).read_bytes(), None)
    assert isinstance(new_key, rsa.RSAPrivateKey)
    new_pem = public_pem(new_key.public_key())
    assert new_pem != public_pem(old_key.public_key())

    # The restarted server's actor shows the new key; the peer got Update{Person} with it,
    # signed with it (and no longer with the old one).
    assert _served_actor(world)["publicKey"]["publicKeyPem"] == new_pem
    assert world.deliver() == 1
    update = world.received("Update")[-1]
    assert update["object"]["type"] == "Person"
    assert update["object"]["publicKey"]["publicKeyPem"] == new_pem
    post = _post_of(world.peer, "Update")
    _verify(post, world.peer.base, new_key.public_key())
    with pytest.raises(SignatureError):
        _verify(post, world.peer.base, old_key.public_key())

    # Until restarted, the running server still shows the old key: doctor says so.
    assert _cli(world, "doctor") == 1
    assert "FAIL  actor: the public key served is not the local key" in capsys.readouterr().out


def test_rotated_out_keys_go_after_the_grace_period(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(world, "keys", "rotate") == 0
    (kept,) = (world.blog.key_folder / "previous").glob("*.pem")
    monkeypatch.setenv("FEDIPUB_KEY_GRACE_DAYS", "0")
    capsys.readouterr()
    assert _cli(world, "keys", "prune") == 0
    assert not kept.exists()
    assert capsys.readouterr().out.startswith(f"deleted {kept}")


def test_move_sends_move_to_followers_and_sets_moved_to(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _followed(world)
    blog_actor = f"{world.blog.base_url}/users/blog"
    stranger = _add_account(world, "carol")
    assert _cli(world, "move", "--to", stranger) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"fedipub: error: {stranger} does not list {blog_actor} in alsoKnownAs; add it there "
        "first (Mastodon: Preferences > Account > Moving from a different account)"
    ]
    assert load_settings(world.blog.data_dir, {}).moved_to is None

    new_home = _add_account(world, "bob", alsoKnownAs=[blog_actor])
    assert _cli(world, "move", "--to", new_home) == 0
    bob = world.peer.url("/users/bob")
    assert load_settings(world.blog.data_dir, {}).moved_to == bob
    assert world.deliver() == 1
    (move,) = world.received("Move")
    assert (move["actor"], move["object"], move["target"]) == (blog_actor, blog_actor, bob)
    assert _served_actor(world)["movedTo"] == bob


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["move", "--to", "not-an-address"], "'not-an-address' is not an account address"),
        (["alias", "remove", "https://old.example/users/me"], "is not an alias"),
        (["export", "comments"], "export comments needs the article's slug"),
        (["export", "comments", "no-such-post"], "no article with slug 'no-such-post'"),
    ],
)
def test_mistakes_are_one_line(
    world: World, capsys: pytest.CaptureFixture[str], args: list[str], error: str
) -> None:
    assert _cli(world, *args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert error in err


def test_move_to_an_account_that_does_not_resolve_is_one_line(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    host = world.peer.base.removeprefix("http://")
    assert _cli(world, "move", "--to", f"@nobody@{host}") == 1
    err = capsys.readouterr().err
    assert err.startswith("fedipub: error: http://") and "status 404" in err


def test_aliases_are_announced_to_followers(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _followed(world)
    old_home = _add_account(world, "oldme")
    old_id = world.peer.url("/users/oldme")
    assert _cli(world, "alias", "add", old_home) == 0
    assert load_settings(world.blog.data_dir, {}).also_known_as == (old_id,)
    assert _served_actor(world)["alsoKnownAs"] == [old_id]
    world.deliver()
    assert world.received("Update")[-1]["object"]["alsoKnownAs"] == [old_id]

    assert _cli(world, "alias", "add", old_home) == 1
    assert "is an alias already" in capsys.readouterr().err
    assert _cli(world, "alias", "remove", old_id) == 0
    assert load_settings(world.blog.data_dir, {}).also_known_as == ()
    world.deliver()
    assert "alsoKnownAs" not in world.received("Update")[-1]["object"]


def test_followers_export_as_mastodon_csv_and_comments_as_json(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _followed(world)
    note = world.note(world.alice, world.article_url(), "<p>Exported</p>")
    assert world.send(world.wrap("Create", world.alice, note)).status_code == 202
    capsys.readouterr()

    assert _cli(world, "export", "followers") == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    host = world.peer.base.removeprefix("http://")
    assert rows == [
        ["Account address", "Show boosts", "Notify on new posts", "Languages"],
        [f"alice@{host}", "true", "false", ""],
    ]

    assert _cli(world, "export", "comments", "hello-world") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["article"]["url"] == world.article_url()
    (comment,) = document["comments"]
    assert comment["id"] == note["id"]
    assert comment["author"]["handle"] == f"@alice@{host}"
    assert "Exported" in comment["content_html"]
    assert comment["state"] == "shown"
