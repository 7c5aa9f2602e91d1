"""The admin in a real browser: logs in, hides a comment, and it disappears from the page."""

from __future__ import annotations

import pytest

from tests.admins import PASSWORD, set_password
from tests.browser.cdp import Page
from tests.browser.conftest import SCREENSHOTS, SLUG
from tests.federation.worlds import World

pytestmark = pytest.mark.browser


def _text(page: Page) -> str:
    """The page's text; empty while a navigation has no body yet."""
    return str(page.evaluate("document.body ? document.body.innerText : ''"))


def _loaded(page: Page, path: str) -> bool:
    return bool(
        page.evaluate(f"location.pathname === {path!r} && document.readyState === 'complete'")
    )


def test_the_admin_hides_a_comment_and_it_leaves_the_page(
    page: Page, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = world.note(world.alice, world.article_url(SLUG), "<p>Buy cheap watches here</p>")
    assert world.send(world.wrap("Create", world.alice, note)).status_code == 202
    assert set_password(world.blog, PASSWORD, monkeypatch) == 0
    page.goto(f"{world.blog.base_url}/posts/{SLUG}")
    assert "Buy cheap watches here" in _text(page)

    page.goto(f"{world.blog.base_url}/admin/login")
    page.type("[data-testid=password]", PASSWORD)
    page.click("[data-testid=login]")
    page.wait_until(lambda: _loaded(page, "/admin/comments"))
    page.goto(f"{world.blog.base_url}/admin/comments?state=shown")
    assert "Buy cheap watches here" in _text(page)
    for dark in (False, True):
        scheme = "dark" if dark else "light"
        page.screenshot(SCREENSHOTS / f"admin-comments-{scheme}.png", width=1280, dark=dark)
    page.click("[data-testid=hide]")
    page.wait_until(lambda: "Buy cheap watches here" not in _text(page))

    page.goto(f"{world.blog.base_url}/posts/{SLUG}")
    assert "Buy cheap watches here" not in _text(page)
    assert page.blocked == []
    assert page.errors() == []
    assert page.dialogs == []
