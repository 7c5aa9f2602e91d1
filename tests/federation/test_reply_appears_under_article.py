"""A reply written on another server becomes a comment under the article: attributed,
threaded, edited and deleted only by its author, shown on the page and in `replies`."""

from __future__ import annotations

import httpx

from tests.federation.worlds import AS2, World


def test_a_reply_shows_on_the_page_and_in_replies(world: World) -> None:
    note = world.note(world.alice, world.article_url(), "<p>Great post, <b>thanks</b>!</p>")
    assert world.send(world.wrap("Create", world.alice, note)).status_code == 202
    page = world.page()
    assert "Great post, <b>thanks</b>!" in page
    assert "@alice@127.0.0.1" in page
    replies = world.collection("hello-world", "replies")
    assert replies["orderedItems"] == [note["id"]]
    assert world.note_document()["replies"]["totalItems"] == 1


def test_a_reply_to_a_reply_nests_and_the_context_has_the_thread(world: World) -> None:
    bob = world.user("bob")
    first = world.note(world.alice, world.article_url(), "<p>First!</p>")
    world.send(world.wrap("Create", world.alice, first))
    second = world.note(bob, first["id"], "<p>Replying to alice</p>")
    assert world.send(world.wrap("Create", bob, second), by=bob).status_code == 202
    assert world.collection("hello-world", "replies")["orderedItems"] == [first["id"]]
    context = world.collection("hello-world", "context")["orderedItems"]
    assert context == [world.article_url(), first["id"], second["id"]]
    page = world.page()
    assert page.index("First!") < page.index("Replying to alice")


def test_edit_and_delete_by_the_author(world: World) -> None:
    note = world.note(world.alice, world.article_url(), "<p>Tpyo</p>")
    world.send(world.wrap("Create", world.alice, note))
    edited = {**note, "content": "<p>Typo fixed</p>", "updated": "2026-11-29T11:00:00Z"}
    assert world.send(world.wrap("Update", world.alice, edited)).status_code == 202
    assert "Typo fixed" in world.page()
    assert "Tpyo" not in world.page()
    tombstone = {"id": note["id"], "type": "Tombstone"}
    assert world.send(world.wrap("Delete", world.alice, tombstone)).status_code == 202
    assert "Typo fixed" not in world.page()
    assert world.collection("hello-world", "replies")["orderedItems"] == []


def test_edit_or_delete_by_someone_else_is_forbidden_and_changes_nothing(world: World) -> None:
    mallory = world.user("mallory")
    note = world.note(world.alice, world.article_url(), "<p>Original words</p>")
    world.send(world.wrap("Create", world.alice, note))
    # Mallory's own server, signed by Mallory, claims to edit alice's note.
    forged = {**note, "attributedTo": mallory.id, "content": "<p>Forged</p>"}
    update = world.wrap("Update", mallory, forged)
    assert world.send(update, by=mallory).status_code in (401, 403)
    delete = world.wrap("Delete", mallory, note["id"])
    assert world.send(delete, by=mallory).status_code == 403
    page = world.page()
    assert "Original words" in page
    assert "Forged" not in page


def test_likes_boosts_and_their_undo(world: World) -> None:
    bob = world.user("bob")
    like = world.wrap("Like", world.alice, world.article_url())
    boost = world.wrap("Announce", bob, world.article_url())
    assert world.send(like).status_code == 202
    assert world.send(boost, by=bob).status_code == 202
    note = world.note_document()
    assert note["likes"]["totalItems"] == 1
    assert note["shares"]["totalItems"] == 1
    assert world.collection("hello-world", "likes")["orderedItems"] == [world.alice.id]
    # Undo by someone else: refused, nothing changes.
    assert world.send(world.wrap("Undo", bob, like), by=bob).status_code == 403
    assert world.note_document()["likes"]["totalItems"] == 1
    assert world.send(world.wrap("Undo", world.alice, like)).status_code == 202
    assert world.send(world.wrap("Undo", bob, boost), by=bob).status_code == 202
    note = world.note_document()
    assert note["likes"]["totalItems"] == 0
    assert note["shares"]["totalItems"] == 0


def test_followers_only_and_direct_replies_are_never_public(world: World) -> None:
    private = world.note(
        world.alice,
        world.article_url(),
        "<p>Just between us</p>",
        to=[f"{world.alice.id}/followers"],
        cc=[],
    )
    assert (
        world.send(world.wrap("Create", world.alice, private, to=private["to"])).status_code == 202
    )
    assert "Just between us" not in world.page()
    assert world.collection("hello-world", "replies")["orderedItems"] == []


def test_a_redelivery_changes_nothing(world: World) -> None:
    note = world.note(world.alice, world.article_url(), "<p>Once</p>")
    create = world.wrap("Create", world.alice, note)
    assert world.send(create).status_code == 202
    assert world.send(create).status_code == 202
    assert world.collection("hello-world", "replies")["totalItems"] == 1


def test_a_note_not_replying_to_us_is_not_a_comment(world: World) -> None:
    note = world.note(world.alice, world.peer.url("/statuses/elsewhere"), "<p>Unrelated</p>")
    assert world.send(world.wrap("Create", world.alice, note)).status_code == 202
    assert "Unrelated" not in world.page()
    # It mentions the blog, so the admin sees it among the mentions.


def test_the_article_as_seen_by_a_server(world: World) -> None:
    note = httpx.get(
        world.article_url().replace(world.blog.base_url, world.base), headers={"Accept": AS2}
    ).json()
    assert note["context"] == f"{world.article_url()}/context"


def test_likes_of_comments_order_the_threads_by_most_liked(world: World) -> None:
    bob = world.user("bob")
    first = world.note(world.alice, world.article_url(), "<p>Early and quiet</p>")
    world.send(world.wrap("Create", world.alice, first))
    second = world.note(bob, world.article_url(), "<p>Late but loved</p>")
    world.send(world.wrap("Create", bob, second), by=bob)
    like = world.wrap("Like", world.alice, second["id"])
    assert world.send(like).status_code == 202
    assert world.send(world.wrap("Like", bob, second["id"]), by=bob).status_code == 202
    oldest = world.page(query="?sort=oldest")
    assert oldest.index("Early and quiet") < oldest.index("Late but loved")
    liked = world.page(query="?sort=liked")
    assert liked.index("Late but loved") < liked.index("Early and quiet")
    # Likes of comments are not the article's rating.
    assert world.note_document()["likes"]["totalItems"] == 0
    # Undone only by who liked.
    assert world.send(world.wrap("Undo", bob, like), by=bob).status_code == 403
    assert world.send(world.wrap("Undo", world.alice, like)).status_code == 202
