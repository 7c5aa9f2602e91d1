"""The delivery queue: one row per (activity, inbox), claimed by workers with a lease.

A claim is one `UPDATE … RETURNING`, so two workers (or two processes) never take the same
row; a worker that dies leaves its rows claimed until `lease_until`, and then any worker takes
them again. Outcomes are recorded one by one, as soon as each response arrives, so a crash can
repeat at most the requests that were in flight.

Ordering: a row is claimable only when no older pending row exists for the same inbox and
object, so an Update or Delete never overtakes the Create before it. When a Delete is enqueued,
the pending Creates and Updates of that object that no worker holds are given up ("superseded
by a Delete"); if one of them was a Create never attempted, that inbox never heard of the
object, and gets no Delete either.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import aiosqlite

from fedipub.errors import NotFoundError
from fedipub.retry import BREAKER_THRESHOLD, BREAKER_TTL, MAX_AGE, breaker_pause
from fedipub.store.codec import from_db_time, to_db_time, to_json
from fedipub.store.connection import Database
from fedipub.types import FollowState

SUPERSEDED = "superseded by a Delete"
EXPIRED = "not delivered in time"
MAX_KEPT_BODY = 1024


@dataclass(frozen=True)
class FollowerInboxes:
    inbox: str
    shared_inbox: str | None


@dataclass(frozen=True)
class Job:
    """A claimed delivery; `attempts` counts the attempts recorded before this one."""

    id: int
    activity_id: str
    inbox: str
    host: str
    attempts: int


@dataclass(frozen=True)
class Counts:
    delivered: int = 0
    pending: int = 0  # not attempted yet
    retrying: int = 0  # attempted, failed, will be tried again
    given_up: int = 0

    @property
    def total(self) -> int:
        return self.delivered + self.pending + self.retrying + self.given_up


@dataclass(frozen=True)
class ActivityProgress:
    activity_id: str
    activity_type: str
    object_id: str
    published: datetime
    counts: Counts


@dataclass(frozen=True)
class HostProgress:
    activity_id: str
    activity_type: str
    host: str
    counts: Counts
    last_status: int | None
    last_error: str | None
    last_body: str | None


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


# A constant fragment, interpolated into the queries below (hence their `noqa: S608`).
_COUNTS = (
    "SUM(d.state = 'delivered') AS delivered,"
    " SUM(d.state = 'pending' AND d.attempts = 0) AS pending,"
    " SUM(d.state = 'pending' AND d.attempts > 0) AS retrying,"
    " SUM(d.state = 'given_up') AS given_up"
)


def _counts(row: sqlite3.Row) -> Counts:
    return Counts(
        int(row["delivered"] or 0),
        int(row["pending"] or 0),
        int(row["retrying"] or 0),
        int(row["given_up"] or 0),
    )


# Round-robin over hosts (rank), at most `per_host` rows held per host by this worker (claimed
# under a live lease: its requests in flight or about to be), one probe for a host whose
# breaker tripped and whose pause is over. Held rows rank first in their host, so a free row is
# chosen only while the host's held and chosen rows stay within its limit. Rows other workers
# hold are theirs.
_CLAIM = """
WITH ranked AS (
    SELECT d.id, d.host, d.next_attempt,
           COALESCE(d.claimed_by = :worker AND d.lease_until > :now, 0) AS held,
           COALESCE(h.failures, 0) >= :threshold AS probing,
           ROW_NUMBER() OVER (
               PARTITION BY d.host
               ORDER BY COALESCE(d.claimed_by = :worker AND d.lease_until > :now, 0) DESC,
                        d.next_attempt, d.id
           ) AS rank
    FROM deliveries AS d LEFT JOIN delivery_hosts AS h ON h.host = d.host
    WHERE d.state = 'pending' AND d.next_attempt <= :now
      AND (d.claimed_by IS NULL OR d.claimed_by = :worker OR d.lease_until <= :now)
      AND (h.paused_until IS NULL OR h.paused_until <= :now)
      AND NOT EXISTS (
          SELECT 1 FROM deliveries AS o
          WHERE o.state = 'pending' AND o.inbox = d.inbox AND o.object_id = d.object_id
            AND o.id < d.id)
),
chosen AS (
    SELECT id FROM ranked
    WHERE NOT held AND rank <= (CASE WHEN probing THEN 1 ELSE :per_host END)
    ORDER BY rank, next_attempt, id
    LIMIT :limit
)
UPDATE deliveries SET claimed_by = :worker, lease_until = :lease_until
WHERE id IN (SELECT id FROM chosen)
RETURNING id, activity_id, inbox, host, attempts
"""

# When a pending row (not ordered behind an older one) may next be claimed.
_NEXT_DUE = """
SELECT MIN(MAX(d.next_attempt, COALESCE(d.lease_until, ''), COALESCE(h.paused_until, '')))
FROM deliveries AS d LEFT JOIN delivery_hosts AS h ON h.host = d.host
WHERE d.state = 'pending' AND NOT EXISTS (
    SELECT 1 FROM deliveries AS o
    WHERE o.state = 'pending' AND o.inbox = d.inbox AND o.object_id = d.object_id
      AND o.id < d.id)
"""


class Deliveries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def follower_inboxes(self, tx: aiosqlite.Connection) -> list[FollowerInboxes]:
        """The accepted followers' inboxes, read in the caller's transaction."""
        rows = await tx.execute_fetchall(
            "SELECT inbox, shared_inbox FROM followers WHERE state = ? ORDER BY created",
            (FollowState.ACCEPTED.value,),
        )
        return [FollowerInboxes(inbox, shared) for inbox, shared in rows]

    async def enqueue(
        self,
        tx: aiosqlite.Connection,
        activity_id: str,
        object_id: str,
        inboxes: Sequence[str],
        now: datetime,
    ) -> int:
        """Queue `activity_id` (stored already, in this transaction or before) for each inbox;
        returns how many rows were added. See the module docstring for Deletes."""
        found = list(
            await tx.execute_fetchall("SELECT type FROM activities WHERE id = ?", (activity_id,))
        )
        if not found:
            raise NotFoundError(f"no activity {activity_id!r} to deliver")
        activity_type = str(found[0][0])
        skipped: set[str] = set()
        if activity_type == "Delete":
            skipped = await self._supersede(tx, object_id, inboxes, now)
        stamp = to_db_time(now)
        rows = [
            (activity_id, activity_type, object_id, inbox, host_of(inbox), stamp, stamp, stamp)
            for inbox in inboxes
            if inbox not in skipped
        ]
        before = tx.total_changes
        await tx.executemany(
            "INSERT INTO deliveries (activity_id, activity_type, object_id, inbox, host,"
            " next_attempt, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (activity_id, inbox) DO NOTHING",
            rows,
        )
        return tx.total_changes - before

    async def _supersede(
        self, tx: aiosqlite.Connection, object_id: str, inboxes: Sequence[str], now: datetime
    ) -> set[str]:
        """Give up the unclaimed pending Creates/Updates of `object_id` to `inboxes`; returns
        the inboxes whose dropped Create had never been attempted."""
        rows = await tx.execute_fetchall(
            "UPDATE deliveries SET state = 'given_up', last_error = ?, updated = ?"
            " WHERE state = 'pending' AND claimed_by IS NULL AND object_id = ?"
            " AND activity_type IN ('Create', 'Update')"
            " AND inbox IN (SELECT value FROM json_each(?))"
            " RETURNING inbox, activity_type, attempts",
            (SUPERSEDED, to_db_time(now), object_id, to_json(list(inboxes))),
        )
        return {inbox for inbox, kind, attempts in rows if kind == "Create" and attempts == 0}

    async def claim(
        self,
        worker: str,
        now: datetime,
        lease_until: datetime,
        *,
        limit: int,
        per_host: int,
    ) -> list[Job]:
        """Claim up to `limit` due rows for `worker`, within `per_host` held rows per host."""
        params = {
            "worker": worker,
            "now": to_db_time(now),
            "lease_until": to_db_time(lease_until),
            "limit": limit,
            "per_host": per_host,
            "threshold": BREAKER_THRESHOLD,
        }
        async with self._db.transaction() as tx:
            rows = await tx.execute_fetchall(_CLAIM, params)
        return [Job(*row) for row in rows]

    async def record_delivered(self, job: Job, status: int, now: datetime) -> None:
        """Mark the row delivered (whoever holds it now) and close the host's breaker;
        committed on return, in a group commit with the other deliveries that just ended
        (one transaction per delivery made the write lock, not the network, the limit)."""
        await self._db.append(
            (
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1,"
                " claimed_by = NULL, lease_until = NULL, last_status = ?, last_error = NULL,"
                " last_body = NULL, updated = ? WHERE id = ?",
                (status, to_db_time(now), job.id),
            ),
            ("DELETE FROM delivery_hosts WHERE host = ?", (job.host,)),
        )

    async def record_failed(
        self,
        job: Job,
        worker: str,
        now: datetime,
        *,
        status: int | None,
        error: str,
        body: bytes,
        retry_at: datetime | None,
        host_down: bool,
    ) -> bool:
        """Record a failed attempt: pending again from `retry_at`, or given up (None). Counts
        towards the host's breaker when `host_down`, else closes it (the host answered).
        Returns True when this failure paused the host."""
        stamp = to_db_time(now)
        kept = body[:MAX_KEPT_BODY].decode("utf-8", "replace") if body else None
        async with self._db.transaction() as tx:
            # Only while still ours: if our lease ran out, another worker owns the row now.
            await tx.execute(
                "UPDATE deliveries SET state = ?, attempts = attempts + 1, next_attempt = ?,"
                " claimed_by = NULL, lease_until = NULL, last_status = ?, last_error = ?,"
                " last_body = ?, updated = ? WHERE id = ? AND claimed_by = ?",
                (
                    "pending" if retry_at is not None else "given_up",
                    to_db_time(retry_at) if retry_at is not None else stamp,
                    status,
                    error,
                    kept,
                    stamp,
                    job.id,
                    worker,
                ),
            )
            if not host_down:
                await tx.execute("DELETE FROM delivery_hosts WHERE host = ?", (job.host,))
                return False
            return await self._count_host_failure(tx, job.host, now)

    async def _count_host_failure(self, tx: aiosqlite.Connection, host: str, now: datetime) -> bool:
        stamp = to_db_time(now)
        # Requests already in flight when the host was paused fail too; they are not counted,
        # or one outage would double the pause once per in-flight request.
        rows = list(
            await tx.execute_fetchall(
                "INSERT INTO delivery_hosts (host, failures, updated) VALUES (?, 1, ?)"
                " ON CONFLICT (host) DO UPDATE SET failures = failures + 1,"
                " updated = excluded.updated"
                " WHERE paused_until IS NULL OR paused_until <= excluded.updated"
                " RETURNING failures",
                (host, stamp),
            )
        )
        pause = breaker_pause(int(rows[0][0])) if rows else None
        if pause is None:
            return False
        await tx.execute(
            "UPDATE delivery_hosts SET paused_until = ? WHERE host = ?",
            (to_db_time(now + timedelta(seconds=pause)), host),
        )
        return True

    async def sweep(self, now: datetime) -> None:
        """Give up rows older than MAX_AGE (those behind a paused host spend no attempts), and
        forget breaker rows untouched for BREAKER_TTL."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE deliveries SET state = 'given_up', last_error = ?, updated = ?"
                " WHERE state = 'pending' AND created < ?"
                " AND (claimed_by IS NULL OR lease_until <= ?)",
                (EXPIRED, stamp, to_db_time(now - timedelta(seconds=MAX_AGE)), stamp),
            )
            await tx.execute(
                "DELETE FROM delivery_hosts WHERE updated < ?",
                (to_db_time(now - timedelta(seconds=BREAKER_TTL)),),
            )

    async def next_due(self) -> datetime | None:
        """The earliest time a pending row may be claimed; None when nothing is pending."""
        value = await self._db.fetch_value(_NEXT_DUE)
        return None if value is None else from_db_time(str(value))

    async def progress(self, activity_id: str) -> Counts:
        row = await self._db.fetch_one(
            f"SELECT {_COUNTS} FROM deliveries AS d WHERE d.activity_id = ?",  # noqa: S608
            (activity_id,),
        )
        return Counts() if row is None else _counts(row)

    async def recent(self, limit: int) -> list[ActivityProgress]:
        """The latest activities that have deliveries, newest first, with their counts."""
        rows = await self._db.fetch_all(
            f"SELECT a.id, a.type, a.object_id, a.published, {_COUNTS}"  # noqa: S608
            " FROM activities AS a JOIN deliveries AS d ON d.activity_id = a.id"
            " GROUP BY a.id ORDER BY a.published DESC, a.rowid DESC LIMIT ?",
            (limit,),
        )
        return [
            ActivityProgress(
                row["id"],
                row["type"],
                row["object_id"],
                from_db_time(row["published"]),
                _counts(row),
            )
            for row in rows
        ]

    async def by_host(self, object_id: str) -> list[HostProgress]:
        """Per activity about `object_id` and per host: counts, and the latest failure."""
        rows = await self._db.fetch_all(
            f"SELECT d.activity_id, d.activity_type, d.host, MIN(d.id) AS first, {_COUNTS}"  # noqa: S608
            " FROM deliveries AS d WHERE d.object_id = ?"
            " GROUP BY d.activity_id, d.host ORDER BY first",
            (object_id,),
        )
        failures = await self._db.fetch_all(
            "SELECT activity_id, host, last_status, last_error, last_body FROM ("
            " SELECT *, ROW_NUMBER() OVER (PARTITION BY activity_id, host"
            " ORDER BY updated DESC, id DESC) AS n FROM deliveries"
            " WHERE object_id = ? AND last_error IS NOT NULL) WHERE n = 1",
            (object_id,),
        )
        latest = {(f["activity_id"], f["host"]): f for f in failures}
        result = []
        for row in rows:
            failure = latest.get((row["activity_id"], row["host"]))
            result.append(
                HostProgress(
                    row["activity_id"],
                    row["activity_type"],
                    row["host"],
                    _counts(row),
                    None if failure is None else failure["last_status"],
                    None if failure is None else failure["last_error"],
                    None if failure is None else failure["last_body"],
                )
            )
        return result
