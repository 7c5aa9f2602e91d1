"""The blog actor, its collections, and the instance actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fedipub.activities import build_collection, build_collection_page
from fedipub.routes.common import (
    as2_response,
    html_response,
    not_found,
    page_number,
    renderer,
    services,
    wants_as2,
)
from fedipub.urls import Urls


def _is_ours(request: Request) -> bool:
    return bool(request.path_params["username"] == services(request).settings.username)


async def actor(request: Request) -> Response:
    if not _is_ours(request):
        return not_found(request, "No such actor")
    svc = services(request)
    if wants_as2(request):
        return as2_response(svc.actor)
    page = await svc.store.articles.page(1, svc.settings.page_size)
    followers = await svc.store.followers.count()
    return html_response(renderer(request).profile(page, follower_count=followers))


async def profile_alias(request: Request) -> Response:
    if not _is_ours(request):
        return not_found(request, "No such actor")
    return RedirectResponse(services(request).urls.actor, status_code=301)


async def instance_actor(request: Request) -> Response:
    return as2_response(services(request).instance_actor, negotiated=False)


async def outbox(request: Request) -> Response:
    if not _is_ours(request):
        return not_found(request, "No such actor")
    svc = services(request)
    number = page_number(request)
    if number is None:
        page = await svc.store.activities.outbox_page(1, svc.settings.page_size)
        return as2_response(build_collection(svc.urls.outbox, page.total), negotiated=False)
    page = await svc.store.activities.outbox_page(number, svc.settings.page_size)
    items = [
        {k: v for k, v in activity.document.items() if k != "@context"} for activity in page.items
    ]
    document = build_collection_page(
        svc.urls.outbox, number, items, total=page.total, has_next=page.has_next
    )
    return as2_response(document, negotiated=False)


async def followers(request: Request) -> Response:
    if not _is_ours(request):
        return not_found(request, "No such actor")
    svc = services(request)
    number = page_number(request)
    if number is None:
        total = await svc.store.followers.count()
        return as2_response(build_collection(svc.urls.followers, total), negotiated=False)
    page = await svc.store.followers.page(number, svc.settings.page_size)
    document = build_collection_page(
        svc.urls.followers,
        number,
        [f.actor_id for f in page.items],
        total=page.total,
        has_next=page.has_next,
    )
    return as2_response(document, negotiated=False)


def empty_collection(url_of: Callable[[Urls], str]) -> Callable[[Request], Awaitable[Response]]:
    """`following`, `featured` and `featuredTags`: the blog follows nobody and pins nothing."""

    async def endpoint(request: Request) -> Response:
        if not _is_ours(request):
            return not_found(request, "No such actor")
        collection_id = url_of(services(request).urls)
        return as2_response(build_collection(collection_id, 0, paged=False), negotiated=False)

    return endpoint


routes = [
    Route("/users/{username}", actor),
    Route("/@{username}", profile_alias),
    Route("/actor", instance_actor),
    Route("/users/{username}/outbox", outbox),
    Route("/users/{username}/followers", followers),
    Route("/users/{username}/following", empty_collection(lambda urls: urls.following)),
    Route("/users/{username}/collections/featured", empty_collection(lambda urls: urls.featured)),
    Route("/users/{username}/collections/tags", empty_collection(lambda urls: urls.featured_tags)),
]
