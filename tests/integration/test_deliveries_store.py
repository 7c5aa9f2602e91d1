"""The delivery queue in SQLite: enqueueing in the caller's transaction, leases, ordering per
inbox and object, Deletes superseding what is still pending, the per-host breaker, and the
counts `fedipub deliveries` shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fedipub.errors import NotFoundError
from fedipub.retry import BREAKER_THRESHOLD, BREAKER_TTL, MAX_AGE
from fedipub.store import Store, open_store
from fedipub.store.deliveries import EXPIRED, SUPERSEDED, Counts, Job
from fedipub.types import Follower, FollowState, StoredActivity

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=120)
NOTE = "https://blog.example/posts/hello"
A = "https://a.example/inbox"
B = "https://b.example/inbox"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(tmp_path / "db.sqlite3")
    yield opened
    await opened.close()


async def add(
    store: Store, kind: str, inboxes: list[str], *, when: float = 0, object_id: str = NOTE
) -> str:
    """Store an activity and queue it, in one transaction, as publishing does."""
    activity_id = f"{kind.lower()}-{when}-{len(inboxes)}"
    activity = StoredActivity(activity_id, kind, object_id, {"type": kind}, at(when))
    async with store.transaction() as tx:
        await store.activities.add(tx, activity, in_outbox=True)
        await store.deliveries.enqueue(tx, activity_id, object_id, inboxes, at(when))
    return activity_id


async def claim(store: Store, when: float, worker: str = "w1", **limits: int) -> list[Job]:
    return await store.deliveries.claim(
        worker,
        at(when),
        at(when) + LEASE,
        limit=limits.get("limit", 100),
        per_host=limits.get("per_host", 4),
    )


async def fail(store: Store, job: Job, when: float, *, retry_in: float | None = 60) -> bool:
    return await store.deliveries.record_failed(
        job,
        "w1",
        at(when),
        status=None,
        error="no response: ConnectError",
        body=b"",
        retry_at=None if retry_in is None else at(when + retry_in),
        host_down=True,
    )


async def test_enqueue_is_part_of_the_callers_transaction(store: Store) -> None:
    activity = StoredActivity("c1", "Create", NOTE, {"type": "Create"}, T0)

    async def publish_then_fail() -> None:
        async with store.transaction() as tx:
            await store.activities.add(tx, activity, in_outbox=True)
            assert await store.deliveries.enqueue(tx, "c1", NOTE, [A, B], T0) == 2
            raise RuntimeError("the article could not be saved")

    with pytest.raises(RuntimeError):
        await publish_then_fail()
    assert await store.deliveries.progress("c1") == Counts()
    assert await claim(store, 0) == []


async def test_one_row_per_activity_and_inbox(store: Store) -> None:
    created = await add(store, "Create", [A, B])
    async with store.transaction() as tx:
        assert (
            await store.deliveries.enqueue(tx, created, NOTE, [A, "https://c.example/x"], T0) == 1
        )
    assert (await store.deliveries.progress(created)).pending == 3


async def test_an_unknown_activity_cannot_be_queued(store: Store) -> None:
    with pytest.raises(NotFoundError):
        async with store.transaction() as tx:
            await store.deliveries.enqueue(tx, "nope", NOTE, [A], T0)


async def test_a_claim_is_a_lease(store: Store) -> None:
    await add(store, "Create", [A, B])
    first = await claim(store, 0, "w1")
    assert sorted(job.inbox for job in first) == [A, B]
    assert await claim(store, 1, "w2") == []  # held by w1
    # w1 died without recording anything: once the lease is over, w2 takes the rows.
    assert await claim(store, LEASE.total_seconds() - 1, "w2") == []
    again = await claim(store, LEASE.total_seconds(), "w2")
    assert sorted(job.id for job in again) == sorted(job.id for job in first)


async def test_claims_are_round_robin_and_bounded_per_host(store: Store) -> None:
    many = [f"https://a.example/users/{n}/inbox" for n in range(10)]
    await add(store, "Create", [*many, B])
    jobs = await claim(store, 0, limit=3, per_host=2)
    assert sorted(job.host for job in jobs) == ["a.example", "a.example", "b.example"]
    # The rows w1 holds count against its limit per host: two more of a.example's, then none.
    more = await claim(store, 0, per_host=4)
    assert [job.host for job in more] == ["a.example", "a.example"]
    assert await claim(store, 0, per_host=4) == []
    # Another worker's limit is its own.
    assert [job.host for job in await claim(store, 0, "w2", per_host=4)] == ["a.example"] * 4
    # A recorded outcome frees its slot.
    await store.deliveries.record_delivered(more[0], 202, at(1))
    assert [job.host for job in await claim(store, 1, per_host=4)] == ["a.example"]


async def test_an_update_waits_for_the_create_to_the_same_inbox(store: Store) -> None:
    await add(store, "Create", [A, B])
    await add(store, "Update", [A, B], when=1)
    jobs = await claim(store, 2)
    assert {(job.inbox, job.activity_id.split("-")[0]) for job in jobs} == {
        (A, "create"),
        (B, "create"),
    }
    to_a, to_b = sorted(jobs, key=lambda job: job.inbox)
    await store.deliveries.record_delivered(to_a, 202, at(3))
    await fail(store, to_b, 3)
    # A got the Create, so its Update may go; B's Create is still pending (retrying).
    assert [(job.inbox, job.activity_id.split("-")[0]) for job in await claim(store, 4)] == [
        (A, "update")
    ]
    await store.deliveries.record_delivered((await claim(store, 70))[0], 202, at(71))
    assert [job.activity_id.split("-")[0] for job in await claim(store, 72)] == ["update"]


async def test_a_delete_drops_what_is_still_pending(store: Store) -> None:
    c_inbox, d_inbox = "https://c.example/inbox", "https://d.example/inbox"
    created = await add(store, "Create", [A, B, c_inbox])
    jobs = {job.inbox: job for job in await claim(store, 0)}
    await fail(store, jobs[A], 1)  # attempted: A may have received it
    await store.deliveries.record_delivered(jobs[B], 202, at(1))
    # C's Create is still in flight (claimed); D's was queued but never attempted.
    async with store.transaction() as tx:
        await store.deliveries.enqueue(tx, created, NOTE, [d_inbox], at(2))
    deleted = await add(store, "Delete", [A, B, c_inbox, d_inbox], when=5)
    # A's and D's pending Creates are dropped; C's in-flight one stays; D gets no Delete.
    assert await store.deliveries.progress(created) == Counts(delivered=1, pending=1, given_up=2)
    assert await store.deliveries.progress(deleted) == Counts(pending=3)
    # The Delete to C waits until its Create is through.
    assert sorted(job.inbox for job in await claim(store, 6)) == [A, B]
    await store.deliveries.record_delivered(jobs[c_inbox], 202, at(7))
    assert [job.inbox for job in await claim(store, 8)] == [c_inbox]


async def test_a_delete_is_not_sent_where_the_create_never_went(store: Store) -> None:
    created = await add(store, "Create", [A, B])
    await add(store, "Update", [A, B], when=1)
    deleted = await add(store, "Delete", [A, B], when=2)
    assert await store.deliveries.progress(created) == Counts(given_up=2)
    assert await store.deliveries.progress(deleted) == Counts()
    hosts = await store.deliveries.by_host(NOTE)
    assert {(h.activity_type, h.last_error) for h in hosts} == {
        ("Create", SUPERSEDED),
        ("Update", SUPERSEDED),
    }
    assert await claim(store, 3) == []


async def test_a_failure_keeps_the_status_and_a_body_prefix(store: Store) -> None:
    created = await add(store, "Create", [A])
    (job,) = await claim(store, 0)
    body = b'{"error": "' + b"x" * 5000 + b'"}'
    await store.deliveries.record_failed(
        job,
        "w1",
        at(1),
        status=400,
        error="refused with status 400",
        body=body,
        retry_at=None,
        host_down=False,
    )
    (host,) = await store.deliveries.by_host(NOTE)
    assert (host.activity_id, host.host, host.counts) == (created, "a.example", Counts(given_up=1))
    assert host.last_status == 400
    assert host.last_error == "refused with status 400"
    assert host.last_body == body[:1024].decode()


async def test_a_late_failure_does_not_clobber_another_workers_claim(store: Store) -> None:
    await add(store, "Create", [A])
    (job,) = await claim(store, 0, "w1")
    (again,) = await claim(store, LEASE.total_seconds(), "w2")  # w1 was too slow
    await fail(store, job, LEASE.total_seconds() + 1)  # w1's outcome arrives late
    assert await claim(store, LEASE.total_seconds() + 2, "w3") == []  # still w2's
    await store.deliveries.record_delivered(again, 202, at(LEASE.total_seconds() + 3))
    assert (await store.deliveries.by_host(NOTE))[0].counts == Counts(delivered=1)


async def test_the_breaker_pauses_a_failing_host_until_a_probe_succeeds(store: Store) -> None:
    inboxes = [f"https://a.example/users/{n}/inbox" for n in range(20)]
    await add(store, "Create", inboxes)
    paused = [False]
    for n in range(BREAKER_THRESHOLD):
        (job,) = await claim(store, 2 * n, per_host=1)
        paused.append(await fail(store, job, 2 * n, retry_in=1))
    assert paused[-2:] == [False, True]
    clock = 2 * (BREAKER_THRESHOLD - 1)  # when it tripped
    # Paused for a minute: a.example's rows wait, neither claimed nor failed; others flow.
    await add(store, "Update", [B], when=clock)
    (other,) = await claim(store, clock, per_host=100)
    assert other.host == "b.example"
    await store.deliveries.record_delivered(other, 202, at(clock))
    assert await claim(store, clock + 59, per_host=100) == []
    # After the pause one probe goes, alone.
    (probe,) = await claim(store, clock + 61, per_host=100)
    assert probe.host == "a.example"
    # A failed probe pauses the host again, twice as long.
    assert await fail(store, probe, clock + 62)
    assert await claim(store, clock + 62 + 119, per_host=100) == []
    (second,) = await claim(store, clock + 62 + 121, per_host=100)
    await store.deliveries.record_delivered(second, 202, at(clock + 190))
    # The first success resumes the host: every due row of it may go.
    resumed = await claim(store, clock + 191, per_host=100)
    assert [job.host for job in resumed] == ["a.example"] * 19


async def test_requests_in_flight_when_a_host_pauses_do_not_lengthen_the_pause(
    store: Store,
) -> None:
    await add(store, "Create", [f"https://a.example/{n}" for n in range(10)])
    jobs = await claim(store, 0, per_host=10)
    results = [await fail(store, job, 1) for job in jobs]
    assert results == [False] * (BREAKER_THRESHOLD - 1) + [True] + [False] * 5
    assert await claim(store, 62, per_host=10) != []  # paused 60 s, not longer


async def test_the_sweep_expires_old_rows_and_forgets_old_breakers(store: Store) -> None:
    created = await add(store, "Create", [A, B])
    jobs = await claim(store, 0)
    for job in jobs:
        for _ in range(BREAKER_THRESHOLD):
            await fail(store, job, 0, retry_in=MAX_AGE * 2)
    await store.deliveries.sweep(at(MAX_AGE + 1))
    assert await store.deliveries.progress(created) == Counts(given_up=2)
    assert (await store.deliveries.by_host(NOTE))[0].last_error == EXPIRED
    assert await store.deliveries.next_due() is None
    # The breaker rows go later, on their own TTL.
    await store.deliveries.sweep(at(BREAKER_TTL + 1))
    await add(store, "Update", [A], when=BREAKER_TTL + 2)
    assert [job.inbox for job in await claim(store, BREAKER_TTL + 2)] == [A]


async def test_next_due_accounts_for_leases_pauses_and_order(store: Store) -> None:
    assert await store.deliveries.next_due() is None
    await add(store, "Create", [A])
    await add(store, "Update", [A], when=10)
    assert await store.deliveries.next_due() == T0
    (job,) = await claim(store, 0)
    assert await store.deliveries.next_due() == T0 + LEASE
    await fail(store, job, 1, retry_in=300)
    assert await store.deliveries.next_due() == at(301)  # the Update waits behind it


async def test_follower_inboxes_are_the_accepted_ones(store: Store) -> None:
    def follower(n: int, state: FollowState, shared: str | None) -> Follower:
        actor = f"https://a.example/users/{n}"
        return Follower(actor, f"{actor}/inbox", shared, state, f"{actor}#f", at(n))

    async with store.transaction() as tx:
        await store.followers.upsert(tx, follower(1, FollowState.ACCEPTED, A))
        await store.followers.upsert(tx, follower(2, FollowState.PENDING, A))
        await store.followers.upsert(tx, follower(3, FollowState.ACCEPTED, None))
        found = await store.deliveries.follower_inboxes(tx)
    assert [(f.inbox, f.shared_inbox) for f in found] == [
        ("https://a.example/users/1/inbox", A),
        ("https://a.example/users/3/inbox", None),
    ]


async def test_recent_lists_activities_with_their_counts(store: Store) -> None:
    created = await add(store, "Create", [A, B])
    updated = await add(store, "Update", [A, B], when=10)
    jobs = {job.inbox: job for job in await claim(store, 11)}
    await store.deliveries.record_delivered(jobs[A], 202, at(12))
    await fail(store, jobs[B], 12)
    recent = await store.deliveries.recent(10)
    assert [(r.activity_id, r.activity_type, r.counts) for r in recent] == [
        (updated, "Update", Counts(pending=2)),
        (created, "Create", Counts(delivered=1, retrying=1)),
    ]
    assert recent[0].object_id == NOTE
