"""One article to many followers: followers inserted through the store, each behind the
shared inbox of one of many loopback hosts (`receivers.py`: 20 loopback addresses by 50 ports
= 1,000 hosts), the article published (which queues one delivery per shared inbox), and the
delivery worker `fedipub serve` runs (built by `build_services`, with its settings) drained.

The delivering side runs in a process of its own (`python -m bench.fanout deliver …`), so
its peak RSS is its own, and the same process measures, before delivering, how many RSA-2048
signatures one core makes per second: every delivery costs one.

First 1,000 followers on 100 hosts, then 10,000 followers on 1,000 hosts, three times (the
median counts: each run lasts a third of a second, at the mercy of a shared machine's
neighbours). Every host must receive exactly one request (at its shared inbox), and memory
must not grow with the followers. Then, for what bounds the figure, the 10,000 again with the
worker signing on the event loop rather than in its signing helper process, and the same
1,000 POSTs sent by a bare httpx client with nothing of fedipub around it (the HTTP client's
own ceiling).

    python -m bench.fanout [--followers 10000] [--hosts 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench.blogs import create_blog
from bench.load import build_request, fetch
from bench.processes import REPOSITORY, START_TIMEOUT, Child, free_port, python, rss_mb, running
from bench.receivers import addresses
from bench.results import Row, print_rows
from fedipub.config import load_settings
from fedipub.delivery import DeliveryWorker
from fedipub.keys import load_keyset
from fedipub.logs import configure_logging
from fedipub.publishing import publish_article
from fedipub.services import build_services
from fedipub.signed_http import FormatMemory, SignedHttp
from fedipub.store import open_store
from fedipub.types import ArticleSource, Follower, FollowState

TARGET_RATIO = 0.7
MEMORY_GROWTH = 1.2  # peak RSS at 10× the followers, at most this many times the smaller run's
ADDRESSES = 20
SIGN_SECONDS = 1.0
MAX_SECONDS = 300.0
CONCURRENCY = 64  # fedipub's default delivery_concurrency
RUNS = 3


# --- the delivering process ----------------------------------------------------------------


def sign_rate(seconds: float = SIGN_SECONDS) -> float:
    """RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second, on this thread (one core), over a
    signing string like a delivery's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = (
        "(request-target): post /inbox\nhost: 127.0.0.1:40000\n"
        "date: Sun, 29 Nov 2026 10:00:00 GMT\ndigest: SHA-256=" + "A" * 44 + "\n"
        "content-type: application/activity+json"
    ).encode("ascii")
    count = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(50):
            key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        count += 50
    return count / elapsed


async def _deliver(
    data: Path, inboxes: list[str], followers: int, *, sign_inline: bool
) -> dict[str, Any]:
    settings = load_settings(data, {"FEDIPUB_ALLOW_PRIVATE_ADDRESSES": "1"})
    configure_logging(settings.log_format)  # as `fedipub serve` logs (to stderr, kept)
    store = await open_store(settings.database_path)
    services = build_services(settings, store, load_keyset(settings.key_folder))
    try:
        now = datetime.now(UTC)
        async with store.transaction() as tx:
            for n in range(followers):
                shared = inboxes[n % len(inboxes)]
                actor = f"{shared.rsplit('/', 1)[0]}/users/follower{n}"
                await store.followers.upsert(
                    tx,
                    Follower(
                        actor, f"{actor}/inbox", shared, FollowState.ACCEPTED, f"{actor}#f", now
                    ),
                )
        rss_before = rss_mb_self()
        signs = sign_rate()
        source = ArticleSource(
            slug="fanout",
            title="To every follower",
            body_markdown="An article for *everyone*. " * 30,
        )
        await services.http.start()  # as a running delivery worker does (`run`)
        started = time.perf_counter()
        result = await publish_article(store, services.blog, source, now=datetime.now(UTC))
        assert result.activity is not None
        queued = time.perf_counter()
        cpu_before, machine_before = time.process_time(), machine_ticks()
        worker = services.delivery_worker()
        if sign_inline:  # the worker `fedipub serve` runs, but signing on the event loop
            worker = DeliveryWorker(
                store,
                SignedHttp(services.client, FormatMemory()),
                services.blog,
                clock=time.time,
                concurrency=settings.delivery_concurrency,
                per_host=settings.delivery_per_host,
            )
        deadline = queued + MAX_SECONDS
        attempted = 0
        while (more := await worker.run_once()) and time.perf_counter() < deadline:
            attempted += more
        finished = time.perf_counter()
        cpu_seconds = time.process_time() - cpu_before
        busy, idle = (now - then for now, then in zip(machine_ticks(), machine_before, strict=True))
        counts = await store.deliveries.progress(result.activity.id)
        return {
            "followers": followers,
            "inboxes": len(inboxes),
            "sign_per_second": signs,
            "publish_seconds": queued - started,
            "deliver_seconds": finished - queued,
            "deliver_cpu_seconds": cpu_seconds,
            "machine_busy": busy / max(1, busy + idle),
            "attempted": attempted,
            "delivered": counts.delivered,
            "not_delivered": counts.total - counts.delivered,
            "rss_before_mb": rss_before,
            "rss_after_mb": rss_mb_self(),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    finally:
        await services.aclose()
        await store.close()


def machine_ticks() -> tuple[int, int]:
    """All cores' busy and idle time so far (Linux's /proc/stat, in clock ticks): the
    receivers and the signing helper run beside the delivering process."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(field) for field in Path("/proc/stat").read_text().split()[1:9]
    )
    return user + nice + system + irq + softirq + steal, idle + iowait


def rss_mb_self() -> float:
    return rss_mb(os.getpid())


async def _post_with_httpx(inboxes: list[str], concurrency: int) -> dict[str, Any]:
    """The HTTP client's own ceiling: the same POSTs (same size, same fresh connections to
    every host, same concurrency), unsigned, through one bare httpx client, nothing else."""
    body = orjson.dumps({"type": "Create", "content": "An article for *everyone*. " * 30})
    slots = asyncio.Semaphore(concurrency)
    statuses: Counter[int] = Counter()
    async with httpx.AsyncClient(trust_env=False) as client:

        async def post(url: str) -> None:
            async with slots:
                response = await client.post(
                    url, content=body, headers={"content-type": "application/activity+json"}
                )
                statuses[response.status_code] += 1

        started = time.perf_counter()
        cpu_before = time.process_time()
        await asyncio.gather(*(post(inbox) for inbox in inboxes))
        elapsed = time.perf_counter() - started
    return {
        "posted": statuses[202],
        "seconds": elapsed,
        "cpu_seconds": time.process_time() - cpu_before,
    }


def child_main(args: argparse.Namespace) -> None:
    inboxes = json.loads(Path(args.inboxes).read_text(encoding="utf-8"))
    if args.mode == "httpx":
        report = uvloop.run(_post_with_httpx(inboxes, CONCURRENCY))
    else:
        report = uvloop.run(
            _deliver(Path(args.data), inboxes, args.followers, sign_inline=args.sign_inline)
        )
    print(json.dumps(report))


# --- the benchmark -------------------------------------------------------------------------


@dataclass(frozen=True)
class Fanout:
    report: dict[str, Any]
    hosts: int
    exactly_once: int  # hosts that received exactly one request
    extra: int  # requests beyond one per host, or to unexpected places
    unsigned: int

    @property
    def rate(self) -> float:
        seconds = float(self.report["deliver_seconds"])
        return float(self.report["delivered"]) / seconds if seconds > 0 else 0.0

    @property
    def clean(self) -> bool:
        return (
            self.exactly_once == self.hosts
            and self.extra == 0
            and self.unsigned == 0
            and self.report["delivered"] == self.hosts
        )


def _progress(message: str) -> None:
    print(f"[fanout] {message}", file=sys.stderr, flush=True)


def _wait_for(path: Path, receivers: Child) -> list[int]:
    deadline = time.monotonic() + START_TIMEOUT
    while not path.exists():
        if receivers.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the receivers did not start:\n{receivers.log_tail()}")
        time.sleep(0.05)
    ports: list[int] = json.loads(path.read_text(encoding="utf-8"))
    return ports


def fan_out(followers: int, hosts: int, *, variant: str = "") -> Fanout:
    """`variant`: "" (as `fedipub serve` delivers), "sign-inline" (signing on the event loop
    instead of the signing helper) or "httpx" (bare httpx posting, no fedipub at all)."""
    names = addresses(min(ADDRESSES, hosts))
    with tempfile.TemporaryDirectory(prefix="fedipub-bench-fanout-") as tmp:
        root = Path(tmp)
        blog = create_blog(root, free_port(), slugs=())
        argv = python(
            "-m", "bench.receivers", "--addresses", str(len(names)),
            "--ports", str(-(-hosts // len(names))), "--ports-file", str(root / "ports.json"),
        )  # fmt: skip
        with running(argv, port=0, log=root / "receivers.log", wait=False) as receivers:
            ports = _wait_for(root / "ports.json", receivers)
            inboxes = [f"http://{name}:{port}/inbox" for port in ports for name in names][:hosts]
            (root / "inboxes.json").write_text(json.dumps(inboxes), encoding="utf-8")
            _progress(f"{followers} followers behind {hosts} shared inboxes {variant}")
            command = python(
                "-m", "bench.launch", sys.executable, "-m", "bench.fanout",
                "httpx" if variant == "httpx" else "deliver",
                "--data", str(blog.data), "--inboxes", str(root / "inboxes.json"),
                "--followers", str(followers),
                *(["--sign-inline"] if variant == "sign-inline" else []),
            )  # fmt: skip
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=MAX_SECONDS + 60,
                check=False,
                cwd=REPOSITORY,
            )
            if done.returncode != 0:
                raise RuntimeError(f"the delivering process failed:\n{done.stderr[-3000:]}")
            report = json.loads(done.stdout.strip().splitlines()[-1])
            answer = fetch(
                names[-1], ports[-1], build_request("GET", "/counts", {"host": "counts"})
            )
            tally = orjson.loads(answer.body)
            if receivers.process.poll() is not None:
                raise RuntimeError(f"the receivers died:\n{receivers.log_tail()}")
    received: dict[str, int] = tally["received"]
    wanted = {f"{inbox.split('/')[2]} /inbox" for inbox in inboxes}
    once = sum(1 for key in wanted if received.get(key) == 1)
    extra = sum(received.values()) - once
    if variant == "httpx":  # the same fields as a delivery report, for the rows below
        report = {
            **report,
            "delivered": report["posted"],
            "deliver_seconds": report["seconds"],
            "deliver_cpu_seconds": report["cpu_seconds"],
        }
    return Fanout(report, hosts, once, extra, int(tally["unsigned"]))


def _ratio(fanout: Fanout) -> float:
    """Deliveries per second over the signatures per second one core made in the same run."""
    return fanout.rate / float(fanout.report["sign_per_second"])


def _cpu(fanout: Fanout) -> str:
    percent = 100 * fanout.report["deliver_cpu_seconds"] / fanout.report["deliver_seconds"]
    return f"{percent:.0f}% CPU (100% = one core)"


def run(followers: int = 10_000, hosts: int = 1_000) -> list[Row]:
    small = fan_out(max(1, followers // 10), max(1, hosts // 10))
    # A fan-out to 1,000 hosts lasts a third of a second, so one run is at the mercy of the
    # neighbours on a shared machine: the median of RUNS, each a fresh process and receivers.
    runs = sorted((fan_out(followers, hosts) for _ in range(RUNS)), key=_ratio)
    large = runs[len(runs) // 2]
    inline = fan_out(followers, hosts, variant="sign-inline")
    bare = fan_out(followers, hosts, variant="httpx")
    command = f"python -m bench.fanout --followers {followers} --hosts {hosts}"
    signs = float(large.report["sign_per_second"])
    peak = max(run.report["peak_rss_mb"] for run in runs)
    growth = peak / small.report["peak_rss_mb"]
    return [
        Row(
            f"fanout: deliveries/s ({followers} followers, {hosts} shared inboxes)",
            large.rate,
            "req/s",
            signs,
            f"≥ {TARGET_RATIO} × one core's RSA-2048 sign/s; 1 request per shared inbox",
            large.rate >= TARGET_RATIO * signs and all(run.clean for run in runs),
            command,
            f"the median of {RUNS} runs, whose ratios were"
            f" {', '.join(f'{_ratio(run):.2f}' for run in runs)}; in it,"
            f" {large.exactly_once}/{hosts} hosts got exactly one request, {large.extra} extra,"
            f" {large.unsigned} unsigned; publishing (queueing {hosts} deliveries) took"
            f" {1000 * large.report['publish_seconds']:.0f} ms; the delivering process used"
            f" {_cpu(large)}; all {os.cpu_count()} cores were"
            f" {100 * large.report['machine_busy']:.0f}% busy (receivers and signing helper"
            " included)",
        ),
        Row(
            "fanout: deliveries/s as above, signing on the event loop instead of the helper",
            inline.rate,
            "req/s",
            large.rate,
            "—",
            None,
            command,
            f"{inline.exactly_once}/{hosts} hosts got exactly one request; {_cpu(inline)};"
            " ceiling = the rate with the helper, above",
        ),
        Row(
            f"fanout: the HTTP client's own ceiling (bare httpx, the same {hosts} POSTs unsigned)",
            bare.rate,
            "req/s",
            signs,
            "—",
            None,
            command,
            f"{bare.exactly_once}/{hosts} hosts got exactly one request; {_cpu(bare)}",
        ),
        Row(
            f"fanout: deliveries/s ({small.report['followers']} followers,"
            f" {small.hosts} shared inboxes)",
            small.rate,
            "req/s",
            float(small.report["sign_per_second"]),
            "—",
            None,
            command,
            f"{small.exactly_once}/{small.hosts} hosts got exactly one request",
        ),
        Row(
            "memory: peak RSS of the delivering process, 10× the followers",
            large.report["peak_rss_mb"],
            "MB",
            small.report["peak_rss_mb"],
            f"≤ {MEMORY_GROWTH} × at {small.report['followers']} followers",
            growth <= MEMORY_GROWTH,
            command,
            f"RSS after: {small.report['rss_after_mb']:.0f} MB at"
            f" {small.report['followers']} followers, {large.report['rss_after_mb']:.0f} MB at"
            f" {followers}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    sub = parser.add_subparsers(dest="mode")
    for mode in ("deliver", "httpx"):
        child = sub.add_parser(mode, help="(internal) the delivering process")
        child.add_argument("--data", required=True)
        child.add_argument("--inboxes", required=True)
        child.add_argument("--followers", type=int, required=True)
        child.add_argument("--sign-inline", action="store_true")
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=1_000)
    args = parser.parse_args()
    if args.mode in ("deliver", "httpx"):
        child_main(args)
        return
    print_rows(run(args.followers, args.hosts))


if __name__ == "__main__":
    main()
