"""Articles: the page/Note at one URL, its collections, tag pages, feeds, our activities."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedipub.activities import build_collection, build_collection_page, build_note, build_tombstone
from fedipub.caching import last_modified
from fedipub.feeds import build_atom, build_rss
from fedipub.interactions import COLLECTIONS, Interactions, load_interactions
from fedipub.routes.common import (
    as2_response,
    html_response,
    not_found,
    page_number,
    renderer,
    services,
    wants_as2,
)
from fedipub.threads import SortOrder
from fedipub.types import Article
from fedipub.vocab import CONTEXT

FEED_SIZE = 20


def _article_dates(article: Article) -> list[datetime | None]:
    return [article.published, article.updated]


def _interaction_dates(interactions: Interactions) -> list[datetime | None]:
    return [
        *(c.updated or c.published for c in interactions.comments),
        *(r.created for r in interactions.reactions),
    ]


async def home(request: Request) -> Response:
    svc = services(request)
    page = await svc.store.articles.page(page_number(request) or 1, svc.settings.page_size)
    followers = await svc.store.followers.count()
    response = html_response(renderer(request).home(page, follower_count=followers))
    return last_modified(response, [d for a in page.items for d in _article_dates(a)])


async def article(request: Request) -> Response:
    svc = services(request)
    slug = request.path_params["slug"]
    found = await svc.store.articles.find(slug)
    if found is None:
        tombstone = await svc.store.articles.find_tombstone(slug)
        if tombstone is None:
            return not_found(request, "No such article")
        if wants_as2(request):
            return as2_response(build_tombstone(svc.settings, svc.urls, tombstone), status=410)
        return html_response(renderer(request).gone(tombstone), status=410)
    interactions = await load_interactions(svc.store, found)
    dates = [*_article_dates(found), *_interaction_dates(interactions)]
    if wants_as2(request):
        counts = interactions.counts()
        return last_modified(
            as2_response(build_note(svc.settings, svc.urls, found, **counts)), dates
        )
    response = html_response(
        renderer(request).article(
            found,
            comments=interactions.comments,
            reactions=interactions.reactions,
            order=SortOrder.parse(request.query_params.get("sort")),
            page=page_number(request) or 1,
            comment_likes=await svc.store.reactions.comment_like_counts(found.id),
        )
    )
    return last_modified(response, dates)


async def article_collection(request: Request) -> Response:
    """`replies`, `likes`, `shares` and `context` of an article, paged."""
    svc = services(request)
    kind = request.path_params["kind"]
    if kind not in COLLECTIONS:
        return not_found(request)
    found = await svc.store.articles.find(request.path_params["slug"])
    if found is None:
        return not_found(request, "No such article")
    collection_id = f"{svc.urls.article(found.slug)}/{kind}"
    items = (await load_interactions(svc.store, found)).items(svc.urls, found, kind)
    number = page_number(request)
    if number is None:
        return as2_response(build_collection(collection_id, len(items)), negotiated=False)
    size = svc.settings.page_size
    on_page = items[(number - 1) * size : number * size]
    has_next = number * size < len(items)
    page = build_collection_page(
        collection_id, number, on_page, total=len(items), has_next=has_next
    )
    return as2_response(page, negotiated=False)


async def author_reply(request: Request) -> Response:
    """The author's replies to comments, as the Notes their Creates carried."""
    svc = services(request)
    note_id = svc.urls.reply(request.path_params["reply_id"])
    found = await svc.store.activities.find_object(note_id)
    if found is None:
        return not_found(request, "No such reply")
    return as2_response({"@context": CONTEXT, **found}, negotiated=False)


async def activity(request: Request) -> Response:
    svc = services(request)
    found = await svc.store.activities.find(request.path_params["activity_id"])
    if found is None:
        return not_found(request, "No such activity")
    return as2_response(found.document, negotiated=False)


async def tag(request: Request) -> Response:
    svc = services(request)
    name = request.path_params["tag"]
    page = await svc.store.articles.page(
        page_number(request) or 1, svc.settings.page_size, tag=name
    )
    if page.total == 0:
        return not_found(request, f"No articles tagged #{name}")
    response = html_response(renderer(request).tag(name, page))
    return last_modified(response, [d for a in page.items for d in _article_dates(a)])


async def atom(request: Request) -> Response:
    svc = services(request)
    page = await svc.store.articles.page(1, FEED_SIZE)
    body = build_atom(svc.settings, svc.urls, page.items)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


async def rss(request: Request) -> Response:
    svc = services(request)
    page = await svc.store.articles.page(1, FEED_SIZE)
    body = build_rss(svc.settings, svc.urls, page.items)
    return Response(body, media_type="application/rss+xml; charset=utf-8")


routes = [
    Route("/", home),
    Route("/posts/{slug}", article),
    Route("/posts/{slug}/{kind:str}", article_collection),
    Route("/activities/{activity_id}", activity),
    Route("/replies/{reply_id}", author_reply),
    Route("/tags/{tag}", tag),
    Route("/feed.atom", atom),
    Route("/feed.rss", rss),
]
