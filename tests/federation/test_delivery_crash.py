"""A `fedipub worker` killed with SIGKILL in the middle of a fan-out to 1,000 inboxes, then
started again: every inbox ends with the activity. Duplicates are possible only for requests
that were sent but not yet recorded at the instant of the kill, so they are bounded by the rows
the worker held then: at most four times its concurrency (it claims ahead), and `per_host` for each
host; the test reports how many there were."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fedipub.blog import Blog, urls_for
from fedipub.delivery import recipients
from fedipub.keys import KeySet
from fedipub.publishing import publish_article
from fedipub.store import open_store
from fedipub.store.deliveries import Counts
from fedipub.types import ArticleSource, Follower, FollowState
from tests.blogs import make_blog
from tests.federation.test_delivery import Inboxes, Tally
from tests.servers import free_port

pytestmark = pytest.mark.slow

PEERS = 8
PER_PEER = 125
INBOXES = PEERS * PER_PEER
CONCURRENCY = 32
PER_HOST = 4
HELD = min(4 * CONCURRENCY, PEERS * PER_HOST)  # rows a worker can hold at once
KILL_AFTER = 300


def _worker(data: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "fedipub", "worker", "--data", str(data)),
            *("--concurrency", str(CONCURRENCY), "--per-host", str(PER_HOST)),
            # A short lease: the restarted worker takes over the dead one's claims soon.
            *("--lease", "2"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )


async def _publish_to(blog: Blog, peers: list[Inboxes]) -> str:
    store = await open_store(blog.settings.database_path)
    try:
        now = datetime.now(UTC)
        async with store.transaction() as tx:
            for peer in peers:
                for n in range(PER_PEER):
                    actor = peer.url(f"/users/{n}")
                    follower = Follower(
                        actor, f"{actor}/inbox", None, FollowState.ACCEPTED, f"{actor}#f", now
                    )
                    await store.followers.upsert(tx, follower)
        source = ArticleSource(slug="crash", title="Crash", body_markdown="Still here.")
        result = await publish_article(store, blog, source, now=now)
        assert result.activity is not None
        async with store.transaction() as tx:
            inboxes = recipients(await store.deliveries.follower_inboxes(tx), (), blog.urls.base)
            assert len(inboxes) == INBOXES
            await store.deliveries.enqueue(
                tx, result.activity.id, result.activity.object_id, inboxes, now
            )
        return result.activity.id
    finally:
        await store.close()


async def _progress(blog: Blog, activity_id: str) -> Counts:
    store = await open_store(blog.settings.database_path)
    try:
        return await store.deliveries.progress(activity_id)
    finally:
        await store.close()


@pytest.fixture
def peers() -> Iterator[list[Inboxes]]:
    tally = Tally()
    built = [Inboxes(tally) for _ in range(PEERS)]
    with ExitStack() as stack:
        for peer in built:
            peer.delay = 0.02
            stack.enter_context(peer.running())
        yield built


def test_a_killed_worker_restarts_and_every_inbox_gets_the_activity_once(
    tmp_path: Path, keyset: KeySet, peers: list[Inboxes]
) -> None:
    settings = make_blog(
        tmp_path / "data",
        keyset,
        domain=f"127.0.0.1:{free_port()}",
        scheme="http",
        allow_private_addresses=True,
    )
    blog = Blog(settings, urls_for(settings), keyset)
    activity_id = asyncio.run(_publish_to(blog, peers))
    tally = peers[0].tally
    log = tmp_path / "worker.log"

    first = _worker(settings.data_dir, log)
    try:
        assert tally.wait(lambda seen: len(seen) >= KILL_AFTER, 30), log.read_text()
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    at_kill = len(tally.seen)
    assert at_kill < INBOXES, "the worker finished before it could be killed"

    second = _worker(settings.data_dir, log)
    try:
        assert tally.wait(lambda seen: len(seen) == INBOXES, 40), log.read_text()
        # Every inbox has it, but the jobs the dead worker sent without recording them are
        # recorded only once their lease expires and the second worker sends them again.
        deadline = time.monotonic() + 30
        while asyncio.run(_progress(blog, activity_id)).delivered < INBOXES:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(10) == 0, log.read_text()  # a clean stop

    assert asyncio.run(_progress(blog, activity_id)) == Counts(delivered=INBOXES)
    duplicates = sum(tally.seen.values()) - INBOXES
    print(f"killed after {at_kill} inboxes; {duplicates} duplicate deliveries")
    # Only requests whose outcome was not recorded at the kill can be repeated.
    assert 0 <= duplicates <= HELD, duplicates
