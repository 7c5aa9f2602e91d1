"""What the web layer is handed at start-up: settings, store, keys, the outbound client and
the documents built once from them. Built in the app's lifespan, never at import time."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fedipub import __version__
from fedipub.activities import build_actor, build_instance_actor
from fedipub.actors import ActorDirectory
from fedipub.blog import Blog, urls_for
from fedipub.client import ClientSettings, GuardedClient
from fedipub.config import Settings
from fedipub.delivery import DeliveryWorker, forget_gone_inbox
from fedipub.fetch import Fetcher
from fedipub.handlers import HANDLERS
from fedipub.inbox import Inbox, InboxContext
from fedipub.keys import KeySet, public_pem
from fedipub.metrics import Metrics
from fedipub.multikey import encode_ed25519_multikey
from fedipub.notify import Notifier
from fedipub.outbox import Outbox
from fedipub.ratelimit import RateLimiter
from fedipub.replies_crawler import RepliesCrawler
from fedipub.signed_http import FormatMemory, SignedHttp
from fedipub.signer import Signer
from fedipub.store import Store
from fedipub.urls import Urls
from fedipub.verify import KeyResolver, Verifier


@dataclass(frozen=True)
class Services:
    settings: Settings
    urls: Urls
    store: Store
    keys: KeySet
    blog: Blog
    actor: dict[str, Any]
    instance_actor: dict[str, Any]
    client: GuardedClient
    http: SignedHttp
    fetcher: Fetcher
    verifier: Verifier
    actors: ActorDirectory
    outbox: Outbox
    notifier: Notifier
    inbox: Inbox
    executor: ThreadPoolExecutor
    signer: Signer
    clock: Callable[[], float]
    crawler: RepliesCrawler
    metrics: Metrics

    def delivery_worker(
        self, *, concurrency: int | None = None, per_host: int | None = None, lease: float = 120
    ) -> DeliveryWorker:
        return DeliveryWorker(
            self.store,
            self.http,
            self.blog,
            clock=self.clock,
            concurrency=concurrency or self.settings.delivery_concurrency,
            per_host=per_host or self.settings.delivery_per_host,
            lease_seconds=lease,
            on_gone=functools.partial(forget_gone_inbox, self.store),
            on_result=self.metrics.delivery_result,
        )

    async def aclose(self) -> None:
        await self.notifier.drain()
        await self.client.aclose()
        await self.signer.aclose()
        self.executor.shutdown()


def signing_processes(settings: Settings) -> int:
    """The setting, or with -1 one helper per core but the event loop's, at most four."""
    if settings.signing_processes >= 0:
        return settings.signing_processes
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def user_agent(settings: Settings) -> str:
    return f"fedipub/{__version__} (+{settings.base_url}/)"


def build_services(
    settings: Settings,
    store: Store,
    keys: KeySet,
    *,
    clock: Callable[[], float] = time.time,
) -> Services:
    urls = urls_for(settings)
    published = (
        datetime.fromisoformat(settings.created)
        if settings.created
        else datetime.fromtimestamp(0, UTC)
    )
    actor = build_actor(
        settings,
        urls,
        public_key_pem=public_pem(keys.blog_rsa.public_key()),
        ed25519_multikey=encode_ed25519_multikey(keys.blog_ed25519.public_key()),
        published=published,
    )
    instance_actor = build_instance_actor(
        settings, urls, public_key_pem=public_pem(keys.instance_rsa.public_key())
    )
    client = GuardedClient(
        ClientSettings(
            user_agent=user_agent(settings),
            allow_private_addresses=settings.allow_private_addresses,
        )
    )
    # Password hashing (scrypt) runs here, off the event loop.
    executor = ThreadPoolExecutor(os.cpu_count(), thread_name_prefix="fedipub-scrypt")
    signer = Signer(signing_processes(settings))
    http = SignedHttp(client, FormatMemory(), clock=clock, signer=signer)
    # Each app counts in a registry of its own (see fedipub/metrics.py).
    metrics = Metrics()
    fetcher = Fetcher(
        http,
        keys,
        urls,
        allow_private=settings.allow_private_addresses,
        on_fetch=metrics.fetch_done,
    )
    verifier = Verifier(
        KeyResolver(store, fetcher, clock=clock),
        clock=clock,
        max_skew=settings.signature_window,
    )
    blog = Blog(settings, urls, keys)
    actors = ActorDirectory(store, fetcher, clock=clock)
    outbox = Outbox(store, blog)
    notifier = Notifier(settings, client)
    context = InboxContext(
        store=store,
        blog=blog,
        verifier=verifier,
        fetcher=fetcher,
        actors=actors,
        outbox=outbox,
        limiter=RateLimiter(settings.inbox_rate, settings.inbox_burst, clock),
        notify=notifier,
        clock=clock,
    )
    return Services(
        settings=settings,
        urls=urls,
        store=store,
        keys=keys,
        blog=blog,
        actor=actor,
        instance_actor=instance_actor,
        client=client,
        http=http,
        fetcher=fetcher,
        verifier=verifier,
        actors=actors,
        outbox=outbox,
        notifier=notifier,
        inbox=Inbox(context, HANDLERS, on_outcome=metrics.inbox_outcome),
        executor=executor,
        signer=signer,
        clock=clock,
        crawler=RepliesCrawler(store, blog, fetcher, actors, clock=clock),
        metrics=metrics,
    )
