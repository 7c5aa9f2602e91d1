"""Commands for delivery: `worker` runs the delivery queue, `deliveries` shows its progress."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from urllib.parse import urlsplit

import uvloop

from fedipub.blog import urls_for
from fedipub.commands.common import AddCommand, print_table, run_with_store, settings_of
from fedipub.config import Settings
from fedipub.keys import load_keyset
from fedipub.logs import configure_logging
from fedipub.services import build_services
from fedipub.store import open_store
from fedipub.store.deliveries import Counts, HostProgress

RECENT = 20
SHOWN_ERROR = 80


async def _work(settings: Settings, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    store = await open_store(settings.database_path)
    services = build_services(settings, store, load_keyset(settings.key_folder))
    try:
        worker = services.delivery_worker(
            concurrency=args.concurrency, per_host=args.per_host, lease=args.lease
        )
        print(f"delivery worker {worker.name} started", file=sys.stderr, flush=True)
        await worker.run(stop)
    finally:
        await services.aclose()
        await store.close()


def cmd_worker(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    load_keyset(settings.key_folder)  # refuse to start with missing or world-readable keys
    configure_logging(settings.log_format)
    # uvloop, as `fedipub serve` runs under uvicorn: a fan-out is mostly event-loop work.
    uvloop.run(_work(settings, args))
    return 0


def _counts(counts: Counts) -> tuple[str, ...]:
    return tuple(
        str(n) for n in (counts.delivered, counts.pending, counts.retrying, counts.given_up)
    )


def _last_error(row: HostProgress) -> str:
    if row.last_error is None:
        return ""
    parts = [row.last_error, row.last_body or ""]
    text = " | ".join(part for part in parts if part)
    text = " ".join(text.split())  # one line, whatever the peer sent
    return text if len(text) <= SHOWN_ERROR else f"{text[: SHOWN_ERROR - 1]}…"


def cmd_deliveries(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    counted = ("DELIVERED", "PENDING", "RETRYING", "GIVEN UP")
    if args.slug is None:
        recent = run_with_store(settings, lambda store: store.deliveries.recent(args.limit))
        rows = [
            (
                a.published.strftime("%Y-%m-%d %H:%M"),
                a.activity_type,
                urlsplit(a.object_id).path,
                *_counts(a.counts),
            )
            for a in recent
        ]
        print_table(("PUBLISHED", "TYPE", "OBJECT", *counted), rows)
        return 0
    object_id = urls_for(settings).article(args.slug)
    hosts = run_with_store(settings, lambda store: store.deliveries.by_host(object_id))
    rows = [
        (h.activity_type, h.activity_id[:8], h.host, *_counts(h.counts), _last_error(h))
        for h in hosts
    ]
    print_table(("TYPE", "ACTIVITY", "HOST", *counted, "LAST ERROR"), rows)
    return 0


def register(command: AddCommand) -> None:
    worker = command("worker", cmd_worker, "deliver queued activities until SIGTERM or SIGINT")
    worker.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="requests in flight (default: setting)",
    )
    worker.add_argument(
        "--per-host", type=int, default=None, help="requests in flight per host (default: setting)"
    )
    worker.add_argument(
        "--lease", type=float, default=120.0, help="seconds a claimed delivery stays ours"
    )
    deliveries = command(
        "deliveries", cmd_deliveries, "show delivery progress: recent activities, or per host"
    )
    deliveries.add_argument("slug", nargs="?", help="an article: its activities per host")
    deliveries.add_argument("--limit", type=int, default=RECENT, help="activities shown")
