"""Authorized fetch (`secure_mode`): AS2 documents only for signed GETs.

HTML stays public. The actor documents stay public too: a server must read our key before it
can verify anything we sign, including the signed fetch it would need to read it.
"""

from __future__ import annotations

import re

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from fedipub.errors import ProtocolError
from fedipub.negotiation import wants_activity_json
from fedipub.routes.inbound import read_inbound
from fedipub.services import Services

# Paths that only ever answer in AS2.
_AS2_ONLY = re.compile(
    r"^/(activities/[^/]+|users/[^/]+/(outbox|followers|following|collections/[^/]+)"
    r"|posts/[^/]+/(replies|likes|shares|context))$"
)
_PUBLIC = re.compile(r"^/(actor|users/[^/]+)$")


def needs_signature(method: str, path: str, accept: str | None) -> bool:
    if method not in ("GET", "HEAD") or _PUBLIC.match(path):
        return False
    return bool(_AS2_ONLY.match(path)) or wants_activity_json(accept)


class SecureModeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        svc: Services = scope["app"].state.services
        if svc.settings.secure_mode and needs_signature(
            request.method, request.url.path, request.headers.get("accept")
        ):
            try:
                inbound = await read_inbound(request, svc.settings.base_url, 0)
                await svc.verifier.verify(inbound)
            except ProtocolError as exc:
                response = Response(
                    orjson.dumps({"error": f"authorized fetch: {exc.reason}"}),
                    status_code=exc.status,
                    media_type="application/json",
                    headers={"Vary": "Accept, Signature", "Cache-Control": "private"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
