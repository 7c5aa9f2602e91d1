"""An article mentioning `@user@host`: resolved through WebFinger on that host, linked on the
page, tagged in the Note, and delivered to the mentioned account."""

from __future__ import annotations

import pytest

from fedipub.cli import main
from tests.blogs import write_article
from tests.federation.worlds import World


def test_a_mention_is_linked_tagged_and_delivered(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    bob = world.user("bob")
    handle = world.serve_webfinger(bob)
    path = write_article(
        world.blog.data_dir.parent / "src",
        "thanks.md",
        f"---\ntitle: Thanks\n---\nThanks to @{handle} and @ghost@{handle.split('@')[1]}!\n",
    )
    capsys.readouterr()
    assert main(["publish", "--data", str(world.blog.data_dir), str(path), "--wait"]) == 0
    captured = capsys.readouterr()
    assert "cannot resolve @ghost@" in captured.err
    assert "1 delivered" in captured.err
    note = world.note_document("thanks")
    assert {"type": "Mention", "href": bob.id, "name": f"@{handle}"} in note["tag"]
    assert bob.id in note["cc"]
    assert 'class="u-url mention"' in note["content"]
    assert "@ghost@" in note["content"]
    [create] = world.received("Create")
    assert create["object"]["id"] == world.article_url("thanks")
    assert 'class="u-url mention"' in world.page("thanks")
