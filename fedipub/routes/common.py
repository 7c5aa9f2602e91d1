"""Helpers every route module shares: the services, responses, and paging."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from fedipub.negotiation import AS2_CONTENT_TYPE, wants_activity_json
from fedipub.render import Renderer
from fedipub.services import Services

MAX_PAGE = 100_000
# A shared cache must never hand JSON to a browser or HTML to a server: every URL that can
# answer in both says so.
NEGOTIATED = {"Vary": "Accept"}
# Cacheable, but revalidated on every use: a hidden comment or an edit shows at once, and a
# repeated view costs a 304 (the ETag is added by fedipub/caching.py).
REVALIDATE = "public, no-cache"


def services(request: Request) -> Services:
    value: Services = request.app.state.services
    return value


def renderer(request: Request) -> Renderer:
    value: Renderer = request.app.state.renderer
    return value


def wants_as2(request: Request) -> bool:
    return wants_activity_json(request.headers.get("accept"))


def as2_response(
    document: dict[str, Any], *, status: int = 200, negotiated: bool = True
) -> Response:
    headers = {"Cache-Control": REVALIDATE}
    if negotiated:
        headers.update(NEGOTIATED)
    return Response(
        orjson.dumps(document), status_code=status, media_type=AS2_CONTENT_TYPE, headers=headers
    )


def html_response(text: str, *, status: int = 200) -> HTMLResponse:
    headers = {"Cache-Control": REVALIDATE, **NEGOTIATED}
    return HTMLResponse(text, status_code=status, headers=headers)


def page_number(request: Request) -> int | None:
    """`?page=N` as a positive number; None when absent. A nonsense value is page 1."""
    raw = request.query_params.get("page")
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        return 1
    return min(max(value, 1), MAX_PAGE)


def not_found(request: Request, message: str = "Not found") -> Response:
    if wants_as2(request):
        return Response(
            orjson.dumps({"error": message}),
            status_code=404,
            media_type="application/json",
            headers=NEGOTIATED,
        )
    return html_response(renderer(request).error(404, message), status=404)
