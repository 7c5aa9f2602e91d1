"""Discovery: WebFinger, host-meta, NodeInfo."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedipub.nodeinfo import build_nodeinfo, build_nodeinfo_links
from fedipub.routes.common import services
from fedipub.vocab import JRD_JSON
from fedipub.webfinger import build_host_meta_json, build_host_meta_xml, build_webfinger

# Web clients (remote-follow pages, Elk, Phanpy) read these cross-origin.
_CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


def _json(document: object, media_type: str, status: int = 200) -> Response:
    return Response(
        orjson.dumps(document), status_code=status, media_type=media_type, headers=_CORS
    )


async def webfinger(request: Request) -> Response:
    resource = request.query_params.get("resource")
    if not resource:
        return _json({"error": "the resource parameter is required"}, "application/json", 400)
    svc = services(request)
    jrd = build_webfinger(resource, svc.settings, svc.urls)
    if jrd is None:
        return _json({"error": "no such account here"}, "application/json", 404)
    return _json(jrd, JRD_JSON)


async def host_meta(request: Request) -> Response:
    return Response(
        build_host_meta_xml(services(request).urls),
        media_type="application/xrd+xml",
        headers=_CORS,
    )


async def host_meta_json(request: Request) -> Response:
    return _json(build_host_meta_json(services(request).urls), "application/json")


async def nodeinfo_links(request: Request) -> Response:
    return _json(build_nodeinfo_links(services(request).urls), "application/json")


async def nodeinfo(request: Request) -> Response:
    svc = services(request)
    document = build_nodeinfo(
        svc.settings,
        local_posts=await svc.store.articles.count(),
        local_comments=await svc.store.comments.count_all_shown(),
    )
    return _json(
        document,
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"',
    )


routes = [
    Route("/.well-known/webfinger", webfinger),
    Route("/.well-known/host-meta", host_meta),
    Route("/.well-known/host-meta.json", host_meta_json),
    Route("/.well-known/nodeinfo", nodeinfo_links),
    Route("/nodeinfo/2.1", nodeinfo),
]
