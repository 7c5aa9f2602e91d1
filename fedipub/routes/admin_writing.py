"""The admin's writing desk: a Markdown editor with a server-side preview, publishing, and
the list of articles with edit and delete.

The editor takes the same text as an article file (front matter + Markdown), checked by the
same `parse_article_source`, so an article written here and one published with `fedipub
publish` are the same thing. Preview and Publish are two submit buttons of one form: the
preview is rendered by the server and needs no script.
"""

from __future__ import annotations

from typing import Any

import yaml
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from fedipub.article_source import parse_article_source, render_markdown
from fedipub.auth import Session
from fedipub.errors import MalformedError, NotFoundError, SourceError
from fedipub.publishing import publish_article, unpublish_article
from fedipub.routes.admin_guard import Form, action, page, problem, redirect
from fedipub.routes.admin_render import now_of, render_page
from fedipub.routes.common import page_number, services
from fedipub.types import Article, ArticleSource

WRITE_PATH = "/admin/write"
NEW_ARTICLE = "---\ntitle: \nsummary: \ntags: []\n---\n\n"


def source_text(article: Article) -> str:
    """A published article as the editor's text, ready to be changed and published again."""
    meta: dict[str, Any] = {"title": article.title, "slug": article.slug}
    if article.summary:
        meta["summary"] = article.summary
    if article.tags:
        meta["tags"] = list(article.tags)
    if article.language:
        meta["language"] = article.language
    meta["published"] = article.published.isoformat()
    if article.content_warning:
        meta["content_warning"] = article.content_warning
    if article.images:
        meta["images"] = [
            {key: value for key, value in vars(image).items() if value not in (None, "")}
            for image in article.images
        ]
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n\n{article.body_markdown}\n"


async def _write_page(
    request: Request,
    session: Session,
    text: str,
    *,
    parsed: ArticleSource | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The editor holding `text`; with `parsed`, its preview below."""
    svc = services(request)
    number = page_number(request) or 1
    articles = await svc.store.articles.page(number, svc.settings.page_size)
    existing = await svc.store.articles.find(parsed.slug) if parsed else None
    done = request.query_params.get("slug")  # after publishing: link to the article
    context = {
        "text": text,
        "parsed": parsed,
        # The author's own Markdown, rendered as the article page renders it.
        "preview": Markup(render_markdown(parsed.body_markdown)) if parsed else None,  # noqa: S704
        "updates": existing is not None,
        "error": error,
        "articles": articles,
        "newer": f"{WRITE_PATH}?page={number - 1}" if number > 1 else None,
        "older": f"{WRITE_PATH}?page={number + 1}" if articles.has_next else None,
        "just_published": await svc.store.articles.find(done) if done else None,
    }
    return await render_page(
        request, session, "write.html", context, status=status, current="write"
    )


@page
async def write(request: Request, session: Session) -> Response:
    """`?edit=SLUG` loads that article into the editor."""
    text = NEW_ARTICLE
    slug = request.query_params.get("edit")
    if slug:
        article = await services(request).store.articles.find(slug)
        if article is None:
            return await problem(request, session, 404, f"There is no article {slug!r}.")
        text = source_text(article)
    return await _write_page(request, session, text)


@action
async def write_action(request: Request, session: Session, form: Form) -> Response:
    # Browsers send a textarea's line breaks as CRLF (HTML §4.10.5.2): the article's text,
    # and so its fingerprint, must not depend on where it was typed.
    text = form.get("source", "").replace("\r\n", "\n")
    wanted = form.get("action", "")
    if wanted not in ("preview", "publish"):
        raise MalformedError(f"no write action {wanted!r}")
    try:
        source = parse_article_source(text)
    except SourceError as exc:
        return await _write_page(request, session, text, error=str(exc), status=400)
    if wanted == "preview":
        return await _write_page(request, session, text, parsed=source)
    svc = services(request)
    result = await publish_article(svc.store, svc.blog, source, now=now_of(request))
    return redirect(WRITE_PATH, done=result.outcome.value, slug=result.article.slug)


@action
async def delete_article(request: Request, session: Session, form: Form) -> Response:
    svc = services(request)
    slug = form.get("slug", "")
    try:
        await unpublish_article(svc.store, svc.blog, slug, now=now_of(request))
    except NotFoundError:
        return await problem(request, session, 404, f"There is no article {slug!r}.")
    return redirect(WRITE_PATH, done="unpublished")
