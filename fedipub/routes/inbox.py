"""The personal and shared inboxes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedipub.routes.common import not_found, services
from fedipub.routes.inbound import read_inbound


async def inbox(request: Request) -> Response:
    svc = services(request)
    username = request.path_params.get("username")
    if username is not None and username != svc.settings.username:
        return not_found(request, "No such actor")
    inbound = await read_inbound(request, svc.settings.base_url, svc.settings.max_inbox_bytes)
    await svc.inbox.receive(inbound)
    return Response(status_code=202)


routes = [
    Route("/inbox", inbox, methods=["POST"]),
    Route("/users/{username}/inbox", inbox, methods=["POST"]),
]
