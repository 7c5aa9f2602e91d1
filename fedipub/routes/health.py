"""`/healthz` for load balancers and container runtimes, `/metrics` for Prometheus."""

from __future__ import annotations

import hmac
import ipaddress
from datetime import UTC, datetime

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedipub.config import Settings, trusted_proxy_networks
from fedipub.errors import StoreError
from fedipub.metrics import CONTENT_TYPE
from fedipub.routes.common import services

_NO_STORE = {"Cache-Control": "no-store"}


def _json(document: object, status: int = 200) -> Response:
    return Response(
        orjson.dumps(document),
        status_code=status,
        media_type="application/json",
        headers=_NO_STORE,
    )


async def healthz(request: Request) -> Response:
    """200 while the database answers, 503 when it does not (so a supervisor restarts us).
    The queue figures say whether deliveries keep up; they never make the check fail, since
    a slow remote server is not a reason to restart this one."""
    svc = services(request)
    try:
        stats = await svc.store.ops.queue_stats()
    except StoreError as exc:
        return _json({"status": "unavailable", "database": False, "error": str(exc)}, 503)
    now = datetime.fromtimestamp(svc.clock(), UTC)
    oldest = None if stats.oldest_pending is None else (now - stats.oldest_pending).total_seconds()
    return _json(
        {
            "status": "ok",
            "database": True,
            "delivery_queue": {"depth": stats.depth, "oldest_pending_seconds": oldest},
        }
    )


def may_read_metrics(settings: Settings, client: str | None, authorization: str | None) -> bool:
    """Loopback, the trusted proxies themselves, or whoever shows `metrics_token`. Behind a
    trusted proxy `client` is the forwarded address, so the public sees a 403 unless it has
    the token."""
    token = settings.metrics_token
    if token and authorization is not None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token):
            return True
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:  # a unix socket's peer, or a test client's made-up name
        return False
    return address.is_loopback or any(
        address in network for network in trusted_proxy_networks(settings.trusted_proxies)
    )


async def metrics(request: Request) -> Response:
    svc = services(request)
    client = request.client.host if request.client else None
    if not may_read_metrics(svc.settings, client, request.headers.get("authorization")):
        return _json({"error": "metrics are for loopback, the proxies, or the token"}, 403)
    try:
        stats = await svc.store.ops.queue_stats()
    except StoreError:
        pass  # the counters are still worth having; /healthz says what is wrong
    else:
        now = datetime.fromtimestamp(svc.clock(), UTC)
        svc.metrics.set_queue(stats.depth, stats.oldest_pending, now)
    return Response(svc.metrics.render(), media_type=CONTENT_TYPE, headers=_NO_STORE)


routes = [
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
    Route("/metrics", metrics),
]
