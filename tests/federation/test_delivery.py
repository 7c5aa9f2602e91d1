"""Delivering an article to followers on real loopback servers: fan-out through shared inboxes,
signatures checked independently, retries by the policy (the clock is driven, never slept on),
Retry-After, 410 and 400, the per-host breaker, ordering per inbox, and leases between
workers."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ParamSpec, TypeVar

import httpx
import orjson
import pytest
from http_message_signatures import HTTPMessageVerifier, MappingKeyResolver, algorithms
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedipub.app import create_app
from fedipub.blog import Blog, urls_for
from fedipub.client import ClientSettings, GuardedClient
from fedipub.delivery import DeliveryWorker, recipients
from fedipub.keys import KeySet
from fedipub.publishing import publish_article, unpublish_article
from fedipub.signatures import parse_request_signature, verify_signed_request
from fedipub.signed_http import FormatMemory, SignedHttp
from fedipub.signer import Signer
from fedipub.store import Store, open_store
from fedipub.store.deliveries import Counts
from fedipub.types import ArticleSource, Follower, FollowState, StoredActivity
from tests.blogs import make_blog
from tests.peers import Received
from tests.servers import free_port, serve

pytestmark = pytest.mark.anyio
P = ParamSpec("P")
R = TypeVar("R")

ARTICLE = ArticleSource(slug="hello", title="Hello", body_markdown="Hello, *fediverse*.")
FIRST_RETRY = 60 * 1.2 + 1  # past the first backoff, jitter included


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class Tally:
    """Accepted POSTs, counted per inbox URL; shareable by several servers, waitable."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self._changed = threading.Condition()

    def add(self, url: str) -> None:
        with self._changed:
            self.seen[url] += 1
            self._changed.notify_all()

    def wait(self, done: Callable[[Counter[str]], bool], timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: done(self.seen), timeout)


class Inboxes:
    """Inboxes on one loopback server: every POST recorded; answers scripted per path (202
    once the script is used up), accepted ones counted in `tally`."""

    def __init__(self, tally: Tally | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.received: list[Received] = []
        self.scripts: dict[str, list[Answer]] = {}
        self.require_rfc9421 = False
        self.delay = 0.0
        self.tally = tally or Tally()
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def script(self, path: str, *answers: Answer) -> None:
        self.scripts[path] = list(answers)

    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.headers.get("x-answered") == "202"]

    def counts(self) -> Counter[str]:
        return Counter(r.path for r in self.accepted())

    def app(self) -> Starlette:
        async def inbox(request: Request) -> Response:
            body = await request.body()
            headers = dict(request.headers)
            script = self.scripts.get(request.url.path) or []
            if self.require_rfc9421 and "signature-input" not in headers:
                answer = Answer(401)
            else:
                answer = script.pop(0) if script else Answer(202)
            headers["x-answered"] = str(answer.status)
            with self._lock:
                self.received.append(Received("POST", request.url.path, headers, body))
            if answer.status == 202:
                self.tally.add(str(request.url))
            if self.delay:  # taken in, but slow to answer: a kill finds requests in flight
                await asyncio.sleep(self.delay)
            return Response(answer.body, status_code=answer.status, headers=answer.headers)

        return Starlette(routes=[Route("/{path:path}", inbox, methods=["POST"])])

    @contextmanager
    def running(self) -> Iterator[Inboxes]:
        with serve(self.app(), port=self.port):
            yield self


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def moment(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@dataclass
class Outbound:
    blog: Blog
    store: Store
    client: GuardedClient
    signer: Signer
    clock: Clock
    gone: list[str]

    def worker(
        self,
        store: Store | None = None,
        *,
        name: str | None = None,
        concurrency: int = 64,
        per_host: int = 4,
    ) -> DeliveryWorker:
        async def on_gone(inbox: str) -> None:
            self.gone.append(inbox)

        return DeliveryWorker(
            store or self.store,
            SignedHttp(self.client, FormatMemory(), signer=self.signer),
            self.blog,
            clock=self.clock,
            concurrency=concurrency,
            per_host=per_host,
            lease_seconds=120,
            on_gone=on_gone,
            rng=random.Random(7),
            name=name,
        )

    async def follow(self, *followers: tuple[str, str | None]) -> None:
        async with self.store.transaction() as tx:
            for n, (inbox, shared) in enumerate(followers):
                actor = f"{inbox}#actor-{n}"
                await self.store.followers.upsert(
                    tx,
                    Follower(actor, inbox, shared, FollowState.ACCEPTED, f"{actor}/f", self.moment),
                )

    @property
    def moment(self) -> datetime:
        return self.clock.moment()

    async def enqueue(
        self,
        activity: StoredActivity,
        *,
        extra: tuple[str, ...] = (),
        only: list[str] | None = None,
    ) -> list[str]:
        """Queue `activity` as publishing does: followers' inboxes, in a transaction."""
        async with self.store.transaction() as tx:
            followers = await self.store.deliveries.follower_inboxes(tx)
            inboxes = only or recipients(followers, extra, self.blog.urls.base)
            await self.store.deliveries.enqueue(
                tx, activity.id, activity.object_id, inboxes, self.moment
            )
        return inboxes

    async def publish(self, source: ArticleSource = ARTICLE) -> StoredActivity:
        result = await publish_article(self.store, self.blog, source, now=self.moment)
        assert result.activity is not None
        return result.activity

    async def drain(self, worker: DeliveryWorker) -> int:
        """run_once until nothing more is due at this moment."""
        total = 0
        while attempted := await worker.run_once():
            total += attempted
        return total


@pytest.fixture
async def outbound(tmp_path: Path, keyset: KeySet) -> AsyncIterator[Outbound]:
    settings = make_blog(
        tmp_path / "data",
        keyset,
        domain=f"127.0.0.1:{free_port()}",
        scheme="http",
        allow_private_addresses=True,
    )
    store = await open_store(settings.database_path)
    client = GuardedClient(ClientSettings(user_agent="test", allow_private_addresses=True))
    signer = Signer(1)
    yield Outbound(Blog(settings, urls_for(settings), keyset), store, client, signer, Clock(), [])
    await signer.aclose()
    await client.aclose()
    await store.close()


def verify(received: Received, base: str, blog: Blog) -> None:
    """An independent check of a received POST's signature against the blog's public key."""
    signed = parse_request_signature(
        method="POST",
        target=received.path,
        url=f"{base}{received.path}",
        headers=received.headers,
        body=received.body,
        now=int(time.time()),
    )
    assert signed.key_id == blog.urls.main_key
    verify_signed_request(signed, blog.keys.blog_rsa.public_key())
    if "signature-input" in received.headers:

        @dataclass
        class Message:  # the interface http_message_signatures reads
            method: str
            url: str
            headers: dict[str, str]

        verifier = HTTPMessageVerifier(
            signature_algorithm=algorithms.RSA_V1_5_SHA256,
            key_resolver=MappingKeyResolver(
                public_keys={blog.urls.main_key: blog.keys.blog_rsa.public_key()}, private_keys={}
            ),
        )
        results = verifier.verify(
            Message("POST", f"{base}{received.path}", received.headers),
            body=received.body,
            require_components=("@method", "@target-uri", "content-digest"),
        )
        assert len(results) == 1


async def test_fan_out_reaches_every_inbox_once_through_shared_inboxes(
    outbound: Outbound,
) -> None:
    one, two, strict = Inboxes(), Inboxes(), Inboxes()
    strict.require_rfc9421 = True  # a server that dropped draft-cavage: we double-knock
    own = f"{outbound.blog.urls.base}/users/someone/inbox"
    await outbound.follow(
        *[(one.url(f"/users/{n}/inbox"), one.url("/inbox")) for n in range(5)],
        *[(one.url(f"/solo/{n}/inbox"), None) for n in range(2)],
        *[(two.url(f"/users/{n}/inbox"), two.url("/shared")) for n in range(3)],
        *[(strict.url(f"/users/{n}/inbox"), None) for n in range(2)],
        (own, None),
    )
    create = await outbound.publish()
    inboxes = await outbound.enqueue(create, extra=(two.url("/mentioned/inbox"),))
    assert own not in inboxes
    worker = outbound.worker()
    with one.running(), two.running(), strict.running():
        assert await outbound.drain(worker) == 7
    assert one.counts() == {"/inbox": 1, "/solo/0/inbox": 1, "/solo/1/inbox": 1}
    assert two.counts() == {"/shared": 1, "/mentioned/inbox": 1}
    assert strict.counts() == {"/users/0/inbox": 1, "/users/1/inbox": 1}
    stored = await outbound.store.activities.find(create.id)
    assert stored is not None
    for peer in (one, two, strict):
        for received in peer.accepted():
            assert orjson.loads(received.body) == stored.document
            verify(received, peer.base, outbound.blog)
    # Every request was signed in the helper process: 7 deliveries, and the 2 cavage knocks
    # refused.
    assert outbound.signer.signed_in_helpers == 9
    assert await outbound.store.deliveries.progress(create.id) == Counts(delivered=7)


async def test_a_dead_host_is_retried_by_the_policy_and_served_when_back(
    outbound: Outbound,
) -> None:
    peer = Inboxes()  # not running: connections are refused
    await outbound.follow((peer.url("/inbox"), None))
    create = await outbound.publish()
    await outbound.enqueue(create)
    worker = outbound.worker()
    assert await outbound.drain(worker) == 1
    assert await outbound.store.deliveries.progress(create.id) == Counts(retrying=1)
    (host,) = await outbound.store.deliveries.by_host(create.object_id)
    assert host.last_status is None
    assert host.last_error is not None and "ConnectError" in host.last_error
    with peer.running():
        assert await outbound.drain(worker) == 0  # not due yet
        outbound.clock.advance(FIRST_RETRY)
        assert await outbound.drain(worker) == 1
    assert peer.counts() == {"/inbox": 1}
    assert await outbound.store.deliveries.progress(create.id) == Counts(delivered=1)


async def test_retry_after_is_respected(outbound: Outbound) -> None:
    peer = Inboxes()
    peer.script("/inbox", Answer(429, b"slow down", {"retry-after": "600"}))
    await outbound.follow((peer.url("/inbox"), None))
    create = await outbound.publish()
    await outbound.enqueue(create)
    worker = outbound.worker()
    with peer.running():
        assert await outbound.drain(worker) == 1
        outbound.clock.advance(599)
        assert await outbound.drain(worker) == 0
        outbound.clock.advance(2)
        assert await outbound.drain(worker) == 1
    assert [r.headers["x-answered"] for r in peer.received] == ["429", "202"]


async def test_gone_gives_up_and_reports_the_inbox_once(outbound: Outbound) -> None:
    peer = Inboxes()
    peer.script("/users/a/inbox", Answer(410, b"gone"))
    await outbound.follow((peer.url("/users/a/inbox"), None), (peer.url("/users/b/inbox"), None))
    create = await outbound.publish()
    await outbound.enqueue(create)
    worker = outbound.worker()
    with peer.running():
        assert await outbound.drain(worker) == 2
        outbound.clock.advance(10 * 86_400)
        assert await outbound.drain(worker) == 0
    assert outbound.gone == [peer.url("/users/a/inbox")]
    assert await outbound.store.deliveries.progress(create.id) == Counts(delivered=1, given_up=1)


async def test_a_refusal_is_given_up_with_its_status_and_body(outbound: Outbound) -> None:
    peer = Inboxes()
    body = b"invalid activity: " + b"x" * 3000
    peer.script("/inbox", Answer(400, body), Answer(400, body))  # refused in both formats
    await outbound.follow((peer.url("/inbox"), None))
    create = await outbound.publish()
    await outbound.enqueue(create)
    with peer.running():
        assert await outbound.drain(outbound.worker()) == 1
    (host,) = await outbound.store.deliveries.by_host(create.object_id)
    assert host.counts == Counts(given_up=1)
    assert (host.last_status, host.last_error) == (400, "refused with status 400")
    assert host.last_body == body[:1024].decode()
    assert outbound.gone == []


async def test_the_breaker_pauses_a_failing_host_and_a_success_resumes_it(
    outbound: Outbound,
) -> None:
    peer = Inboxes()
    await outbound.follow(*[(peer.url(f"/users/{n}/inbox"), None) for n in range(20)])
    create = await outbound.publish()
    await outbound.enqueue(create)
    worker = outbound.worker(per_host=4)
    # Five failures trip the breaker; at most the three others then in flight fail with them.
    attempted = await outbound.drain(worker)
    assert 5 <= attempted <= 8
    with peer.running():
        outbound.clock.advance(30)
        assert await outbound.drain(worker) == 0  # paused: the 12+ untried rows wait
        assert peer.received == []
        progress = await outbound.store.deliveries.progress(create.id)
        assert (progress.pending, progress.retrying, progress.given_up) == (
            20 - attempted,
            attempted,
            0,
        )
        # The pause (a minute) is over, and the failed rows are due: a probe succeeds, and
        # the rest follow it.
        outbound.clock.advance(FIRST_RETRY - 30)
        assert await outbound.drain(worker) == 20
    assert set(peer.counts().values()) == {1}
    assert len(peer.counts()) == 20


@pytest.mark.parametrize(
    "written",
    [
        pytest.param("HTTP://{authority}/users/x/../../inbox", id="scheme-and-dot-segments"),
        pytest.param("http://{authority}/inbox?", id="empty-query"),
    ],
)
async def test_a_url_httpx_would_rewrite_is_signed_as_it_is_sent(
    outbound: Outbound, written: str
) -> None:
    """The request goes out normalized (httpx's reading, without an empty query), and its
    signature covers that path and Host, not the URL as written."""
    peer = Inboxes()
    written = written.format(authority=peer.base.removeprefix("http://"))
    await outbound.follow((written, None))
    create = await outbound.publish()
    await outbound.enqueue(create)
    with peer.running():
        assert await outbound.drain(outbound.worker()) == 1
    [received] = peer.accepted()
    assert received.path == "/inbox"
    verify(received, peer.base, outbound.blog)


async def test_a_follower_sees_an_article_created_updated_and_deleted(outbound: Outbound) -> None:
    """An article's whole life as a follower's server sees it, each activity signed: a Create,
    an Update saying when it changed, a Delete of a Tombstone; and then its URL answers 410
    Gone with the Tombstone."""
    peer = Inboxes()
    await outbound.follow((peer.url("/users/a/inbox"), peer.url("/inbox")))
    worker = outbound.worker()
    with peer.running():
        await outbound.enqueue(await outbound.publish())
        assert await outbound.drain(worker) == 1
        outbound.clock.advance(3600)
        changed = ArticleSource(slug="hello", title="Hello again", body_markdown="Edited.")
        await outbound.enqueue(await outbound.publish(changed))
        assert await outbound.drain(worker) == 1
        outbound.clock.advance(3600)
        _, gone = await unpublish_article(
            outbound.store, outbound.blog, "hello", now=outbound.moment
        )
        await outbound.enqueue(gone)
        assert await outbound.drain(worker) == 1
    received = peer.accepted()
    for each in received:
        verify(each, peer.base, outbound.blog)
    create, update, delete = (orjson.loads(each.body) for each in received)
    assert [create["type"], update["type"], delete["type"]] == ["Create", "Update", "Delete"]
    note = create["object"]
    assert update["object"]["id"] == note["id"]
    assert update["object"]["updated"] > note["published"]
    assert update["object"]["content"] != note["content"]
    assert delete["object"]["type"] == "Tombstone"
    assert delete["object"]["id"] == note["id"]

    port = int(outbound.blog.settings.domain.rsplit(":", 1)[1])
    with serve(create_app(outbound.blog.settings), port=port):
        answer = httpx.get(note["id"], headers={"Accept": "application/activity+json"})
    assert answer.status_code == 410
    assert (answer.json()["type"], answer.json()["id"]) == ("Tombstone", note["id"])


async def test_an_update_never_overtakes_its_create(outbound: Outbound) -> None:
    peer = Inboxes()
    await outbound.follow((peer.url("/inbox"), None))
    create = await outbound.publish()
    await outbound.enqueue(create)
    worker = outbound.worker()
    assert await outbound.drain(worker) == 1  # refused: the peer is down
    changed = ArticleSource(slug="hello", title="Hello again", body_markdown="Edited.")
    update = await outbound.publish(changed)
    assert update.type == "Update"
    await outbound.enqueue(update)
    with peer.running():
        assert await outbound.drain(worker) == 0  # the Create is not due; the Update waits
        outbound.clock.advance(FIRST_RETRY)
        assert await outbound.drain(worker) == 2
    assert [orjson.loads(r.body)["type"] for r in peer.received] == ["Create", "Update"]


async def test_a_delete_drops_the_pending_create(outbound: Outbound) -> None:
    peer = Inboxes()
    await outbound.follow((peer.url("/tried/inbox"), None))
    create = await outbound.publish()
    await outbound.enqueue(create)
    worker = outbound.worker()
    assert await outbound.drain(worker) == 1  # attempted, refused: it may have arrived
    untried = peer.url("/untried/inbox")
    await outbound.enqueue(create, only=[untried])
    _, delete = await unpublish_article(outbound.store, outbound.blog, "hello", now=outbound.moment)
    await outbound.enqueue(delete, only=[peer.url("/tried/inbox"), untried])
    with peer.running():
        outbound.clock.advance(FIRST_RETRY)
        assert await outbound.drain(worker) == 1
    # The tried inbox gets the Delete alone; the untried one never heard of the article.
    assert [(r.path, orjson.loads(r.body)["type"]) for r in peer.received] == [
        ("/tried/inbox", "Delete")
    ]
    assert await outbound.store.deliveries.progress(create.id) == Counts(given_up=2)


async def test_two_workers_on_one_database_never_send_a_job_twice(
    outbound: Outbound, tmp_path: Path
) -> None:
    peers = [Inboxes() for _ in range(3)]
    await outbound.follow(*[(p.url(f"/u/{n}/inbox"), None) for p in peers for n in range(20)])
    create = await outbound.publish()
    await outbound.enqueue(create)
    other_store = await open_store(outbound.blog.settings.database_path)
    try:
        first = outbound.worker(name="first", concurrency=8)
        second = outbound.worker(other_store, name="second", concurrency=8)
        with peers[0].running(), peers[1].running(), peers[2].running():
            done = await asyncio.gather(outbound.drain(first), outbound.drain(second))
    finally:
        await other_store.close()
    assert sum(done) == 60
    assert all(done)  # both took part
    for peer in peers:
        assert peer.counts() == {f"/u/{n}/inbox": 1 for n in range(20)}


async def test_a_dead_workers_claims_are_taken_over_when_its_lease_ends(
    outbound: Outbound,
) -> None:
    peer = Inboxes()
    await outbound.follow(*[(peer.url(f"/u/{n}/inbox"), None) for n in range(3)])
    create = await outbound.publish()
    await outbound.enqueue(create)
    # A worker claims everything and dies before sending.
    lease_until = outbound.moment + timedelta(seconds=120)
    claimed = await outbound.store.deliveries.claim(
        "dead", outbound.moment, lease_until, limit=10, per_host=10
    )
    assert len(claimed) == 3
    worker = outbound.worker()  # its lease is 120 s too
    with peer.running():
        assert await outbound.drain(worker) == 0
        outbound.clock.advance(119)
        assert await outbound.drain(worker) == 0
        outbound.clock.advance(1)
        assert await outbound.drain(worker) == 3
    assert len(peer.counts()) == 3


async def test_run_delivers_when_notified_and_stops_cleanly(outbound: Outbound) -> None:
    peer = Inboxes()
    await outbound.follow((peer.url("/inbox"), None))
    worker = outbound.worker()
    stop = asyncio.Event()
    with peer.running():
        running = asyncio.create_task(worker.run(stop))
        create = await outbound.publish()
        await outbound.enqueue(create)
        worker.notify()
        assert await asyncio.to_thread(peer.tally.wait, lambda seen: bool(seen), 10)
        stop.set()
        await asyncio.wait_for(running, 5)
    assert await outbound.store.deliveries.progress(create.id) == Counts(delivered=1)
