"""The article page in a real browser: comments delivered through the inbox appear, sorting and
content warnings work, the reply form sends the reader to their instance, hostile comments run
no script, and no request ever leaves 127.0.0.1. Screenshots land in test-artifacts/."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from fedipub.vocab import JRD_JSON
from tests.browser.cdp import Page
from tests.browser.conftest import SCREENSHOTS, SLUG
from tests.federation.worlds import RemoteUser, World

pytestmark = pytest.mark.browser

# Every way a comment has been known to run script somewhere; each would set window.__xss.
HOSTILE = (
    "<p>hi<script>window.__xss = 1</script>"
    '<img src=x onerror="window.__xss = 2">'
    '<a href="javascript:window.__xss = 3">click</a>'
    '<svg onload="window.__xss = 4"><script>window.__xss = 5</script></svg>'
    '<iframe src="javascript:window.__xss = 6"></iframe>'
    '<iframe srcdoc="<script>parent.__xss = 7</script>"></iframe>'
    '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss = 8">'
    '<details open ontoggle="window.__xss = 9">d</details>'
    '<a href="#" onclick="window.__xss = 10">plain</a>'
    '<form action="javascript:window.__xss = 11"><button>go</button></form>'
    '<object data="javascript:window.__xss = 12"></object>'
    '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example/">'
    '<link rel="stylesheet" href="https://evil.example/x.css">'
    '<style>body { background: red }</style><span style="position:fixed;inset:0">cover</span></p>'
)


def _comment(
    world: World, by: RemoteUser, content: str, *, reply_to: str | None = None, **extra: Any
) -> dict[str, Any]:
    note = world.note(by, reply_to or world.article_url(SLUG), content, **extra)
    assert world.send(world.wrap("Create", by, note), by=by).status_code == 202
    return note


def _open(page: Page, world: World, query: str = "") -> None:
    page.goto(f"{world.article_url(SLUG)}{query}")


def _assert_clean(page: Page) -> None:
    """No request left 127.0.0.1, nothing went wrong in the console, no dialog opened."""
    assert page.blocked == []
    assert page.errors() == []
    assert page.dialogs == []


def _authors(page: Page) -> list[str]:
    return list(
        page.evaluate(
            """[...document.querySelectorAll(".thread--top > .thread__item > .comment")]
               .map(c => c.querySelector(".comment__name").textContent.trim())"""
        )
    )


def test_a_reply_delivered_to_the_inbox_appears(page: Page, world: World) -> None:
    bob = world.user("bob")
    first = _comment(
        world,
        world.alice,
        "<p>Lovely write-up! Which server software did you compare it with?</p>",
        published="2026-11-28T09:12:00Z",
    )
    _comment(
        world,
        bob,
        "<p>GoToSocial and Akkoma, mostly. Both are fine; this one is smaller.</p>",
        reply_to=str(first["id"]),
        published="2026-11-28T10:40:00Z",
    )
    _comment(
        world,
        world.user("carol"),
        "<p>The plot of the film is discussed below.</p>",
        summary="Film spoilers",
        published="2026-11-29T08:05:00Z",
    )
    world.send(world.wrap("Like", bob, world.article_url(SLUG)), by=bob)
    world.send(world.wrap("Announce", world.alice, world.article_url(SLUG)))
    _open(page, world)
    assert page.evaluate("document.querySelector('#comments-title').textContent") == "3 comments"
    text = page.evaluate("document.querySelector('#comments').innerText")
    assert "Which server software did you compare it with?" in text
    assert "GoToSocial and Akkoma, mostly." in text
    assert "1 like" in page.evaluate("document.querySelector('.reactions').innerText")
    for width, name in ((1280, "desktop"), (390, "phone")):
        for dark in (False, True):
            scheme = "dark" if dark else "light"
            page.screenshot(SCREENSHOTS / f"article-{scheme}-{name}.png", width=width, dark=dark)
    _assert_clean(page)


def test_sorting_changes_the_order(page: Page, world: World) -> None:
    _comment(world, world.alice, "<p>Early</p>", published="2026-11-28T09:00:00Z")
    _comment(world, world.user("bob"), "<p>Late</p>", published="2026-11-29T09:00:00Z")
    _open(page, world)
    assert _authors(page) == ["Alice", "Bob"]
    loads = page.loads
    page.click('nav.sort a[href*="sort=newest"]')
    page.wait_until(lambda: page.loads > loads)
    assert page.evaluate("location.search") == "?sort=newest"
    assert _authors(page) == ["Bob", "Alice"]
    current = "document.querySelector('nav.sort [aria-current]').textContent"
    assert page.evaluate(current) == "Newest"
    loads = page.loads
    page.click('nav.sort a[href*="sort=oldest"]')
    page.wait_until(lambda: page.loads > loads)
    assert _authors(page) == ["Alice", "Bob"]
    _assert_clean(page)


def test_a_content_warning_opens_on_click(page: Page, world: World) -> None:
    _comment(world, world.alice, "<p>Hidden until asked for</p>", summary="Spoilers")
    _open(page, world)
    details = "document.querySelector('details.comment__cw')"
    content = f"{details}.querySelector('.comment__content')"
    assert page.evaluate(f"{details}.open") is False
    assert page.evaluate(f"{content}.checkVisibility()") is False
    page.click("details.comment__cw > summary")
    assert page.evaluate(f"{details}.open") is True
    assert page.evaluate(f"{content}.checkVisibility()") is True
    _assert_clean(page)


def test_the_reply_form_sends_the_reader_to_their_instance(page: Page, world: World) -> None:
    host = world.peer.base.removeprefix("http://")
    world.peer.put(
        "/.well-known/webfinger",
        {"subject": f"acct:alice@{host}",
         "links": [{"rel": "https://w3id.org/fep/3b86/Object",
                    "template": f"https://{host}/authorize_interaction?uri={{object}}"}]},
        content_type=JRD_JSON,
    )  # fmt: skip
    article = world.article_url(SLUG)
    expected = f"https://{host}/authorize_interaction?uri={quote(article, safe='')}"
    _open(page, world)
    page.type("#remote-reply", f"@alice@{host}")
    page.click("form.remote button")
    page.wait_until(lambda: bool(page.blocked))
    # Our server answered 303 to the instance, which the browser then tried to open (stopped:
    # it is not one of the plain-http test servers on loopback).
    [(source, status, location)] = page.redirects
    assert source.startswith(f"{world.base}/authorize_interaction?uri=")
    assert (status, location) == (303, expected)
    assert page.blocked == [expected]
    # The instance is remembered: the Follow form on the home page is filled in already.
    page.blocked.clear()
    page.goto(f"{world.base}/")
    assert page.evaluate("document.querySelector('#remote-follow').value") == f"@alice@{host}"
    page.click("form.remote button")
    page.wait_until(lambda: bool(page.blocked))
    actor = quote(f"{world.blog.base_url}/users/blog", safe="")
    assert page.blocked == [f"https://{host}/authorize_interaction?uri={actor}"]
    assert page.errors() == []


def test_a_hostile_comment_runs_no_script(page: Page, world: World) -> None:
    evil = world.user("evil")
    evil.actor["name"] = '<img src=x onerror="window.__xss = 20">Evil\u202egnp.exe'
    evil.actor["icon"] = {"type": "Image", "url": "javascript:window.__xss = 21"}
    world.peer.put("/users/evil", evil.actor)
    _comment(
        world,
        evil,
        HOSTILE + ' :blob" onmouseover="window.__xss = 22":',
        summary='<b onmouseover="window.__xss = 23">CW</b>',
        tag=[{"type": "Emoji", "name": ':blob" onmouseover="x:',
              "icon": {"type": "Image", "url": "javascript:window.__xss = 24"}}],
        attachment=[{"type": "Document", "mediaType": "image/svg+xml",
                     "url": "data:image/svg+xml,<svg onload='window.__xss = 25'/>",
                     "name": '<img src=x onerror="window.__xss = 26">'}],
    )  # fmt: skip
    _open(page, world)
    page.click("details.comment__cw > summary")
    for link in ("click", "plain"):
        selector = f"//a[normalize-space()={json.dumps(link)}]"
        if page.evaluate(f"!!document.evaluate({json.dumps(selector)}, document).iterateNext()"):
            page.evaluate(
                f"document.evaluate({json.dumps(selector)}, document).iterateNext().click()"
            )
    page.evaluate("new Promise(done => setTimeout(done, 100))")  # give any handler its chance
    shown = page.evaluate("document.querySelector('#comments .thread').innerText")
    assert "Evil" in shown and "click" in shown  # the comment is there, defused
    assert page.evaluate("typeof window.__xss") == "undefined"
    dangerous = "script, iframe, svg, math, object, embed, style, base, meta, link, form"
    assert (
        page.evaluate(f"document.querySelectorAll('#comments .thread :is({dangerous})').length")
        == 0
    )
    attributes = page.evaluate(
        """[...document.querySelectorAll("#comments .thread *")].flatMap(e => e.getAttributeNames())
           .filter(name => name.startsWith("on") || name === "style")"""
    )
    assert attributes == []
    hrefs = page.evaluate(
        "[...document.querySelectorAll('#comments .thread [href]')].map(a => a.href)"
    )
    assert all(href.startswith(("http://", "https://")) for href in hrefs)
    assert "\u202e" not in page.evaluate("document.body.innerText")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 0, 0)"
    _assert_clean(page)
