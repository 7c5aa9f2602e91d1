"""Admin pages for what the server did on its own: deliveries and the inbox's audit trail."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedipub.auth import Session
from fedipub.routes.admin_guard import page
from fedipub.routes.admin_render import render_page
from fedipub.routes.common import services

RECENT_ACTIVITIES = 50
LOG_ENTRIES = 200
MAX_SEARCH = 200


@page
async def deliveries(request: Request, session: Session) -> Response:
    """Recent activities with their counts; `?object=URL`: that object's, per host, with the
    last error each host gave."""
    store = services(request).store
    object_id = request.query_params.get("object") or None
    context = {
        "object_id": object_id,
        "recent": [] if object_id else await store.deliveries.recent(RECENT_ACTIVITIES),
        "hosts": await store.deliveries.by_host(object_id) if object_id else [],
    }
    return await render_page(request, session, "deliveries.html", context, current="deliveries")


@page
async def inbox_log(request: Request, session: Session) -> Response:
    search = (request.query_params.get("q") or "").strip()[:MAX_SEARCH]
    entries = await services(request).store.inbox_log.recent(LOG_ENTRIES, search=search or None)
    context = {"search": search, "entries": entries, "limit": LOG_ENTRIES}
    return await render_page(request, session, "inbox_log.html", context, current="inbox-log")
