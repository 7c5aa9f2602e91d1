"""The ASGI application: `create_app(settings)` builds it; nothing happens at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from fedipub.caching import ConditionalGetMiddleware
from fedipub.config import Settings, load_settings
from fedipub.errors import ConfigError, ProtocolError
from fedipub.keys import load_keyset
from fedipub.middleware import SECURITY_HEADERS, HeadersMiddleware
from fedipub.render import Renderer
from fedipub.routes import actor, admin, articles, health, inbox, interaction, wellknown
from fedipub.routes.errors import protocol_error
from fedipub.routes.secure import SecureModeMiddleware
from fedipub.services import Services, build_services
from fedipub.store import open_store

log = logging.getLogger("fedipub.app")


async def crawl_periodically(services: Services, interval: float, stop: asyncio.Event) -> None:
    """Read recent comments' replies collections every `interval` seconds until `stop`."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if not stop.is_set():
            try:
                await services.crawler.crawl()
            except Exception:  # a background loop must outlive one bad crawl
                log.exception("reading replies collections failed")


def create_app(settings: Settings) -> Starlette:
    keys = load_keyset(settings.key_folder)
    theme = settings.data_dir / "templates"
    media = settings.data_dir / "media"

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await open_store(settings.database_path)
        app.state.services = build_services(settings, store, keys)
        app.state.renderer = Renderer(
            settings,
            app.state.services.urls,
            theme_dir=theme if theme.is_dir() else None,
        )
        stop = asyncio.Event()
        delivering: asyncio.Task[None] | None = None
        if settings.delivery_worker:
            delivering = asyncio.create_task(app.state.services.delivery_worker().run(stop))
        crawling: asyncio.Task[None] | None = None
        if settings.replies_crawl_interval > 0:
            crawling = asyncio.create_task(
                crawl_periodically(app.state.services, settings.replies_crawl_interval, stop)
            )
        try:
            yield
        finally:
            # Stopped, not cancelled: requests in flight finish and are recorded, so none is
            # sent twice when the lease would otherwise expire.
            stop.set()
            for task in (delivering, crawling):
                if task is not None:
                    await task
            await app.state.services.aclose()
            await store.close()

    static = settings.data_dir / "static"
    routes = [
        *health.routes,
        *wellknown.routes,
        *inbox.routes,
        *actor.routes,
        *interaction.routes,
        *articles.routes,
        *admin.routes,
        # The admin's theme folder first, then the package's own files.
        Mount(
            "/static",
            StaticFiles(
                directory=static if static.is_dir() else None, packages=[("fedipub", "static")]
            ),
            name="static",
        ),
        Mount("/media", StaticFiles(directory=media, check_dir=False), name="media"),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            # Outermost: everything inside sees the client and scheme the proxy was told, but
            # only from `trusted_proxies`; anyone else could claim any address.
            Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies),
            Middleware(HeadersMiddleware, headers=SECURITY_HEADERS),
            Middleware(SecureModeMiddleware),
            # Innermost: it hashes the body the routes produced, and a 304 still gets the
            # security headers from outside.
            Middleware(ConditionalGetMiddleware),
        ],
        exception_handlers={ProtocolError: protocol_error},
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """The factory `fedipub serve --workers N` hands uvicorn: each worker process builds its
    own app from FEDIPUB_DATA."""
    data = os.environ.get("FEDIPUB_DATA")
    if not data:
        raise ConfigError("FEDIPUB_DATA is not set")
    return create_app(load_settings(Path(data), os.environ))
