"""Writing from the admin web: the server-side preview, publishing, editing and deleting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fedipub.keys import KeySet
from tests.admins import loopback_blog, post_action, serving_admin

ARTICLE_SOURCE = """---
title: Written on the web
tags: [admin]
---
Some *emphasis* and a [link](https://example.org/).
"""


@pytest.fixture
def logged_in(
    tmp_path: Path, keyset: KeySet, monkeypatch: pytest.MonkeyPatch
) -> Iterator[httpx.Client]:
    with serving_admin(
        loopback_blog(tmp_path / "data", keyset), monkeypatch, logged_in=True
    ) as http:
        yield http


def _write(http: httpx.Client, source: str, action: str) -> httpx.Response:
    return post_action(http, "/admin/write", "/admin/write", {"source": source, "action": action})


def test_preview_renders_the_markdown_and_publishes_nothing(
    logged_in: httpx.Client,
) -> None:
    http = logged_in
    preview = _write(http, ARTICLE_SOURCE, "preview")
    assert preview.status_code == 200
    assert 'data-testid="preview-pane"' in preview.text
    assert "Some <em>emphasis</em> and a" in preview.text
    assert "Written on the web" in preview.text
    assert "title: Written on the web" in preview.text  # the editor keeps the text
    assert http.get("/posts/written-on-the-web").status_code == 404


def test_a_broken_article_is_explained_and_kept(logged_in: httpx.Client) -> None:
    http = logged_in
    broken = ARTICLE_SOURCE.replace("title: Written on the web\n", "")
    response = _write(http, broken, "publish")
    assert response.status_code == 400
    assert "front matter needs a title" in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Some *emphasis*" in response.text


def test_publishing_from_the_web_creates_the_article_and_delete_removes_it(
    logged_in: httpx.Client,
) -> None:
    http = logged_in
    # A browser sends the textarea's line breaks as CRLF.
    published = _write(http, ARTICLE_SOURCE.replace("\n", "\r\n"), "publish")
    assert published.status_code == 303
    assert published.headers["location"] == "/admin/write?done=created&slug=written-on-the-web"
    article = http.get("/posts/written-on-the-web")
    assert article.status_code == 200
    assert "Some <em>emphasis</em>" in article.text
    after = http.get(published.headers["location"]).text
    assert 'data-testid="published-link"' in after
    assert 'data-slug="written-on-the-web"' in after
    # The same text again, from the editor's copy of the article: nothing changes.
    edited = http.get("/admin/write?edit=written-on-the-web").text
    source = re.search(r'data-testid="editor">\n(.*?)</textarea>', edited, re.DOTALL)
    assert source is not None
    assert "slug: written-on-the-web" in source.group(1)
    delete = post_action(
        http, "/admin/write", "/admin/articles/delete", {"slug": "written-on-the-web"}
    )
    assert delete.status_code == 303
    assert http.get("/posts/written-on-the-web").status_code == 410
