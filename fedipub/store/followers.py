"""The blog actor's followers."""

from __future__ import annotations

import sqlite3
from urllib.parse import urlsplit

import aiosqlite

from fedipub.store.codec import from_db_time, to_db_time
from fedipub.store.connection import Database
from fedipub.types import Follower, FollowState, Page


def _row_to_follower(row: sqlite3.Row) -> Follower:
    return Follower(
        actor_id=row["actor_id"],
        inbox=row["inbox"],
        shared_inbox=row["shared_inbox"],
        state=FollowState(row["state"]),
        follow_id=row["follow_id"],
        created=from_db_time(row["created"]),
    )


class Followers:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(self, tx: aiosqlite.Connection, follower: Follower) -> None:
        await tx.execute(
            "INSERT INTO followers (actor_id, inbox, shared_inbox, state, follow_id, created)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (actor_id) DO UPDATE SET"
            " inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,"
            " state = excluded.state, follow_id = excluded.follow_id",
            (
                follower.actor_id,
                follower.inbox,
                follower.shared_inbox,
                follower.state.value,
                follower.follow_id,
                to_db_time(follower.created),
            ),
        )

    async def remove(self, tx: aiosqlite.Connection, actor_id: str) -> bool:
        cursor = await tx.execute("DELETE FROM followers WHERE actor_id = ?", (actor_id,))
        return cursor.rowcount > 0

    async def set_state(self, tx: aiosqlite.Connection, actor_id: str, state: FollowState) -> None:
        await tx.execute(
            "UPDATE followers SET state = ? WHERE actor_id = ?", (state.value, actor_id)
        )

    async def remove_by_domain(self, tx: aiosqlite.Connection, domain: str) -> int:
        rows = await tx.execute_fetchall("SELECT actor_id FROM followers")
        gone = [row[0] for row in rows if (urlsplit(row[0]).hostname or "").lower() == domain]
        await tx.executemany("DELETE FROM followers WHERE actor_id = ?", [(a,) for a in gone])
        return len(gone)

    async def remove_by_inbox(self, tx: aiosqlite.Connection, inbox: str) -> int:
        """Followers behind an inbox that answered 410 Gone."""
        cursor = await tx.execute(
            "DELETE FROM followers WHERE inbox = ? OR shared_inbox = ?", (inbox, inbox)
        )
        return cursor.rowcount

    async def find(self, actor_id: str) -> Follower | None:
        row = await self._db.fetch_one("SELECT * FROM followers WHERE actor_id = ?", (actor_id,))
        return None if row is None else _row_to_follower(row)

    async def page(
        self, page: int, page_size: int, state: FollowState | None = FollowState.ACCEPTED
    ) -> Page[Follower]:
        """Followers in `state` (every state when None), newest first."""
        states = [s.value for s in FollowState] if state is None else [state.value]
        marks = ", ".join("?" for _ in states)
        total = await self._db.fetch_value(
            f"SELECT COUNT(*) FROM followers WHERE state IN ({marks})",  # noqa: S608
            states,
        )
        rows = await self._db.fetch_all(
            f"SELECT * FROM followers WHERE state IN ({marks})"  # noqa: S608
            " ORDER BY created DESC LIMIT ? OFFSET ?",
            (*states, page_size, (page - 1) * page_size),
        )
        return Page(tuple(map(_row_to_follower, rows)), int(total), page, page_size)

    async def count(self, state: FollowState = FollowState.ACCEPTED) -> int:
        return int(
            await self._db.fetch_value(
                "SELECT COUNT(*) FROM followers WHERE state = ?", (state.value,)
            )
        )
