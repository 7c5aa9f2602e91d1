"""Delivering our activities to inboxes: who gets them, queueing them, and the worker.

Enqueueing is part of the change that causes it: `store.deliveries.enqueue(tx, …)` takes the
caller's transaction, so an article and the deliveries announcing it commit together or not at
all; `recipients` says to which inboxes. The worker claims due rows with a lease
(`store/deliveries.py`), posts them signed, records each outcome as its response arrives, and
decides retries with the pure policy of `retry.py`.

Throughput: claims are taken ahead, up to four times the requests allowed in flight, in
batches of `concurrency` (a claim scans the due rows: ~2 ms at a thousand), so a lease must
outlast four rounds of requests (the default 120 s is eight times a request's 15 s deadline).
A claimed delivery is signed at once, in a helper process (signer.py), and takes one of the
`concurrency` slots only to send, through `http1`; its outcome is recorded while the next
requests go out, in shared commits. Per host no more than `per_host` rows are held, and hosts
are served round-robin. The body is serialized once per activity, not per inbox.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson

from fedipub.blog import Blog
from fedipub.client import Response
from fedipub.errors import DeliveryError, NotFoundError, UnsafeURLError
from fedipub.retry import GiveUp, Retry, host_unavailable, is_delivered, next_attempt
from fedipub.signed_http import SignedHttp
from fedipub.store import Store
from fedipub.store.deliveries import Job

log = logging.getLogger("fedipub.delivery")

# How often the worker gives up expired rows and forgets stale breaker rows.
SWEEP_INTERVAL = 60.0
# The longest `run` sleeps without looking at the queue: rows enqueued by another process
# (`fedipub publish` while `fedipub worker` runs) cannot call `notify`.
MAX_IDLE = 1.0
MIN_IDLE = 0.05


class DeliveryResult(enum.Enum):
    DELIVERED = "delivered"
    RETRYING = "retrying"
    GIVEN_UP = "given_up"


@dataclass(frozen=True)
class _Sent:
    """What one POST came to: a response, or no response and why."""

    response: Response | None
    detail: str = ""
    unsafe: bool = False  # refused by the SSRF guard: never retried


class _Round:
    """What one `run_once` has under way: deliveries not yet answered (`sending`: being
    signed, waiting for one of the `slots` or on the network), and tasks still running
    (sending or recording); `changed` returns when any of that moves."""

    def __init__(self, concurrency: int) -> None:
        self.sending = 0
        self.slots = asyncio.Semaphore(concurrency)
        self.tasks: set[asyncio.Task[None]] = set()
        self.exhausted = False  # the last claim found nothing, and nothing was recorded since
        self._event = asyncio.Event()

    def start(self, delivery: Coroutine[Any, Any, None]) -> None:
        self.sending += 1
        task = asyncio.create_task(delivery)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def sent(self) -> None:
        self.sending -= 1
        self._event.set()

    def recorded(self) -> None:
        self.exhausted = False
        self._event.set()

    def wake(self, _: object = None) -> None:
        self._event.set()

    async def changed(self) -> None:
        await self._event.wait()
        self._event.clear()


class HasInboxes(Protocol):
    """A follower as far as addressing goes (`types.Follower` is one)."""

    @property
    def inbox(self) -> str: ...

    @property
    def shared_inbox(self) -> str | None: ...


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def recipients(
    followers: Iterable[HasInboxes], extra_inboxes: Iterable[str], own_origin: str
) -> list[str]:
    """The inboxes to deliver to, each once, in order: every follower's shared inbox when it
    has one (one request per server however many followers are behind it), else its own
    inbox; then the extra inboxes (mentioned or replied-to actors). Never our own origin."""
    own = own_origin.rstrip("/").lower()
    wanted = [f.shared_inbox or f.inbox for f in followers]
    return [inbox for inbox in dict.fromkeys([*wanted, *extra_inboxes]) if _origin(inbox) != own]


async def forget_gone_inbox(store: Store, inbox: str) -> None:
    """The worker's `on_gone`: an inbox that answers 410 Gone will not come back, and neither
    will the followers behind it."""
    async with store.transaction() as tx:
        removed = await store.followers.remove_by_inbox(tx, inbox)
    log.info("%s is gone: removed %d follower(s) behind it", inbox, removed)


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class DeliveryWorker:
    """Claims due deliveries, posts them, records the outcomes; see the module docstring."""

    def __init__(
        self,
        store: Store,
        http: SignedHttp,
        blog: Blog,
        *,
        clock: Callable[[], float],
        concurrency: int = 64,
        per_host: int = 4,
        lease_seconds: float = 120,
        on_gone: Callable[[str], Awaitable[None]] | None = None,
        on_result: Callable[[DeliveryResult], None] | None = None,
        rng: random.Random | None = None,
        name: str | None = None,
    ) -> None:
        self._store = store
        self._http = http
        self._blog = blog
        self._clock = clock
        self._concurrency = concurrency
        self._claim_batch = max(1, concurrency)
        self._per_host = per_host
        self._lease = lease_seconds
        self._on_gone = on_gone
        # Told each attempt's result (the server's metrics count them).
        self._on_result = on_result
        self._rng = rng or random.Random()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._last_sweep = float("-inf")

    def notify(self) -> None:
        """Wake `run` now: something was enqueued."""
        self._wake.set()

    async def run_once(self) -> int:
        """Deliver everything due now, within the limits; returns how many were attempted.

        Rows that become claimable during the call (an Update whose Create was just
        delivered) are taken in the same call.
        """
        if self._clock() - self._last_sweep >= SWEEP_INTERVAL:
            self._last_sweep = self._clock()
            await self._store.deliveries.sweep(_moment(self._last_sweep))
        bodies: dict[str, asyncio.Task[bytes]] = {}
        current = _Round(self._concurrency)
        claiming: asyncio.Task[list[Job]] | None = None
        attempted = 0
        while True:
            if claiming is not None and claiming.done():
                jobs = claiming.result()
                claiming, current.exhausted = None, not jobs
                for job in jobs:
                    if job.activity_id not in bodies:
                        bodies[job.activity_id] = asyncio.create_task(self._body(job.activity_id))
                    current.start(self._deliver(job, bodies[job.activity_id], current))
                attempted += len(jobs)
            # Claimed ahead (see the module docstring) while requests are out: the others are
            # signed meanwhile.
            room = 4 * self._concurrency - current.sending
            wanted = room >= self._claim_batch or not current.sending
            if wanted and claiming is None and not current.exhausted and not self._stop.is_set():
                claiming = asyncio.create_task(self._claim(room))
                claiming.add_done_callback(current.wake)
            if claiming is None and not current.sending:
                if not current.tasks:
                    return attempted
                # What they record may make more rows claimable (an Update after its Create).
                await asyncio.wait(current.tasks)
                continue
            await current.changed()

    async def _claim(self, limit: int) -> list[Job]:
        now = self._clock()
        return await self._store.deliveries.claim(
            self.name,
            _moment(now),
            _moment(now + self._lease),
            limit=limit,
            per_host=self._per_host,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then finish what is in flight and return. Claims are
        only taken for requests that start at once, so nothing claimed is left behind."""
        self._stop = stop
        # Its signing helpers are ready before the first fan-out, not started by it (~150 ms).
        await self._http.start()
        while not stop.is_set():
            self._wake.clear()
            try:
                attempted = await self.run_once()
            except Exception:  # the loop outlives a locked database or a bug in one row
                log.exception("delivery round failed")
                attempted = 0
            if attempted == 0:
                await self._idle(stop)

    async def _idle(self, stop: asyncio.Event) -> None:
        due = await self._store.deliveries.next_due()
        delay = MAX_IDLE if due is None else due.timestamp() - self._clock()
        waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        await asyncio.wait(
            waiters,
            timeout=min(max(delay, MIN_IDLE), MAX_IDLE),
            return_when=asyncio.FIRST_COMPLETED,
        )
        for waiter in waiters:
            waiter.cancel()

    async def _body(self, activity_id: str) -> bytes:
        activity = await self._store.activities.find(activity_id)
        if activity is None:
            raise NotFoundError(f"activity {activity_id} is queued but not stored")
        return orjson.dumps(activity.document)

    async def _deliver(self, job: Job, body: asyncio.Task[bytes], current: _Round) -> None:
        try:
            sent = await self._send(job, body, current.slots)
        finally:
            current.sent()
        if sent is not None:
            # Recorded while the next requests go out. A host's slot is free once its
            # outcome is recorded (the claim counts held rows), when its breaker may trip.
            await self._record(job, sent)
            current.recorded()

    async def _send(
        self, job: Job, body: asyncio.Task[bytes], slots: asyncio.Semaphore
    ) -> _Sent | None:
        """POST the job's activity; None when that failed in a way the policy does not know
        (a bug, a missing activity): the row's lease expires and it is tried again."""
        keys, urls = self._blog.keys, self._blog.urls
        try:
            response = await self._http.post(
                job.inbox, await body, keys.blog_rsa, urls.main_key, slot=slots
            )
        except UnsafeURLError as exc:
            return _Sent(None, exc.reason, unsafe=True)
        except DeliveryError as exc:
            return _Sent(None, exc.reason)
        except Exception:  # one row's failure must not take the others down
            log.exception("delivering %s to %s failed", job.activity_id, job.inbox)
            return None
        return _Sent(response)

    async def _record(self, job: Job, sent: _Sent) -> None:
        try:
            await self._judge(job, sent)
        except Exception:  # as in `_send`: the lease expires and the row is tried again
            log.exception("recording %s to %s failed", job.activity_id, job.inbox)

    async def _judge(self, job: Job, sent: _Sent) -> None:
        response, now = sent.response, self._clock()
        if response is not None and is_delivered(response.status):
            await self._store.deliveries.record_delivered(job, response.status, _moment(now))
            log.debug("delivered %s to %s: %d", job.activity_id, job.inbox, response.status)
            self._result(DeliveryResult.DELIVERED)
            return
        status = None if response is None else response.status
        retry_after = None if response is None else response.headers.get("retry-after")
        decision = next_attempt(
            job.attempts + 1, status, retry_after, now, self._rng, unsafe=sent.unsafe
        )
        reason = f"{decision.reason}: {sent.detail}" if sent.detail else decision.reason
        paused = await self._store.deliveries.record_failed(
            job,
            self.name,
            _moment(now),
            status=status,
            error=reason,
            body=b"" if response is None else response.body,
            retry_at=_moment(decision.at) if isinstance(decision, Retry) else None,
            host_down=host_unavailable(status) and not sent.unsafe,
        )
        if paused:
            log.warning("pausing deliveries to %s: it keeps failing", job.host)
        if isinstance(decision, Retry):
            log.info("will retry %s to %s: %s", job.activity_id, job.inbox, decision.reason)
            self._result(DeliveryResult.RETRYING)
        if isinstance(decision, GiveUp):
            log.info("gave up delivering %s to %s: %s", job.activity_id, job.inbox, decision.reason)
            self._result(DeliveryResult.GIVEN_UP)
            if decision.gone and self._on_gone is not None:
                await self._on_gone(job.inbox)

    def _result(self, result: DeliveryResult) -> None:
        if self._on_result is not None:
            self._on_result(result)
