"""The one place a refused request becomes an HTTP response."""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response

from fedipub.errors import ProtocolError, RateLimitedError

log = logging.getLogger("fedipub.http")


async def protocol_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProtocolError)
    log.info("%s %s refused (%d): %s", request.method, request.url.path, exc.status, exc.reason)
    headers = {"Cache-Control": "no-store"}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after)
    return Response(
        orjson.dumps({"error": exc.reason}),
        status_code=exc.status,
        media_type="application/json",
        headers=headers,
    )
