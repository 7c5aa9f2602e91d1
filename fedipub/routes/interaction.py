"""Taking part from elsewhere: the remote-interaction redirect, and the comments for embedding.

`/authorize_interaction?uri=URL&instance=INPUT` sends a reader to their own instance to reply
to an article or follow the blog (see fedipub/remote_interaction.py for who gets which page).
`/posts/SLUG/comments.json` and `.html` serve an article's comments to blogs hosted elsewhere.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from fedipub.client import GuardedClient
from fedipub.errors import FetchError, MalformedError
from fedipub.interactions import Interactions, load_interactions
from fedipub.remote_interaction import (
    Account,
    Intent,
    nodeinfo_links_url,
    nodeinfo_url,
    parse_account,
    redirect_url,
    software_name,
    webfinger_url,
)
from fedipub.render import INTERACTION_PATH
from fedipub.render_comments import comments_document
from fedipub.routes.common import REVALIDATE, not_found, renderer, services
from fedipub.threads import SortOrder
from fedipub.types import Article
from fedipub.vocab import JRD_JSON

# The reader waits on the click: past this, Mastodon's page is a better answer than none.
DISCOVERY_SECONDS = 4.0
_JSON_ACCEPT = f"{JRD_JSON}, application/json"
_NO_STORE = {"Cache-Control": "no-store"}
# Any site may read these; they hold only what the article page shows everyone.
_EMBED_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": REVALIDATE}


async def _discover(
    client: GuardedClient, account: Account, scheme: str
) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(JRD, where it came from, software name) for `account`; whatever failed is None."""
    if account.acct:
        final, jrd = await client.fetch_json(webfinger_url(account, scheme), accept=_JSON_ACCEPT)
        return jrd, final, None
    _, links = await client.fetch_json(nodeinfo_links_url(account, scheme), accept=_JSON_ACCEPT)
    document_url = nodeinfo_url(links)
    if document_url is None:
        return None, None, None
    _, nodeinfo = await client.fetch_json(document_url, accept=_JSON_ACCEPT)
    return None, None, software_name(nodeinfo)


async def _intent_of(request: Request, uri: str) -> Intent | None:
    """What `uri` is on this blog: the actor (follow) or a published article; else None, as we
    send readers only to our own pages, never to an arbitrary URL on their instance."""
    svc = services(request)
    if uri == svc.urls.actor:
        return Intent.FOLLOW
    slug = uri.removeprefix(svc.urls.article(""))
    if slug != uri and "/" not in slug and await svc.store.articles.find(slug) is not None:
        return Intent.INTERACT
    return None


async def authorize_interaction(request: Request) -> Response:
    svc = services(request)
    uri = request.query_params.get("uri", "")
    instance = request.query_params.get("instance", "").strip()
    intent = await _intent_of(request, uri)
    if intent is None:
        message = "Only this blog and its articles can be followed or replied to from here"
        return HTMLResponse(renderer(request).error(400, message), 400, headers=_NO_STORE)
    if not instance:
        return HTMLResponse(renderer(request).interact(uri), headers=_NO_STORE)
    try:
        account = parse_account(instance)
    except MalformedError as exc:
        page = renderer(request).interact(uri, instance=instance, error=exc.reason)
        return HTMLResponse(page, 400, headers=_NO_STORE)
    # allow_private_addresses is the development and test switch, and the one that lets the
    # guarded client speak plain http: a peer on loopback has no certificate.
    scheme = "http" if svc.settings.allow_private_addresses else "https"
    jrd, jrd_url, software = None, None, None
    try:
        async with asyncio.timeout(DISCOVERY_SECONDS):
            jrd, jrd_url, software = await _discover(svc.client, account, scheme)
    except (FetchError, TimeoutError):
        pass  # Mastodon's page, the most common, is the answer when nothing better is known.
    target = redirect_url(account, uri, intent, jrd=jrd, jrd_url=jrd_url, software=software)
    if target is None:
        return HTMLResponse(renderer(request).interact(uri, no_page=True), headers=_NO_STORE)
    return RedirectResponse(target, status_code=303, headers=_NO_STORE)


async def _embedded(request: Request) -> tuple[Article, Interactions] | None:
    svc = services(request)
    found = await svc.store.articles.find(request.path_params["slug"])
    if found is None:
        return None
    return found, await load_interactions(svc.store, found)


async def comments_json(request: Request) -> Response:
    """The article's comments, threaded, with counts and reactions: the shape is documented
    in `render_comments.comments_document`."""
    loaded = await _embedded(request)
    if loaded is None:
        return not_found(request, "No such article")
    article, interactions = loaded
    document = comments_document(
        services(request).urls.article(article.slug),
        interactions.comments,
        interactions.reactions,
        order=SortOrder.parse(request.query_params.get("sort")),
    )
    return Response(orjson.dumps(document), media_type="application/json", headers=_EMBED_HEADERS)


async def comments_html(request: Request) -> Response:
    """The comments section as an HTML fragment, no page around it."""
    loaded = await _embedded(request)
    if loaded is None:
        return not_found(request, "No such article")
    article, interactions = loaded
    fragment = renderer(request).comments_fragment(
        article,
        comments=interactions.comments,
        reactions=interactions.reactions,
        order=SortOrder.parse(request.query_params.get("sort")),
    )
    return HTMLResponse(fragment, headers=_EMBED_HEADERS)


routes = [
    Route(INTERACTION_PATH, authorize_interaction),
    # Before articles.routes, whose /posts/{slug}/{kind} would take these as collections.
    Route("/posts/{slug}/comments.json", comments_json),
    Route("/posts/{slug}/comments.html", comments_html),
]
