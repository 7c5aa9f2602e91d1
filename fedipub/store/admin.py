"""The admin web's own rows: the password hash, sessions, failed logins; and the counts its
pages show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from fedipub.store.codec import from_db_time, to_db_time
from fedipub.store.connection import Database
from fedipub.types import CommentState


@dataclass(frozen=True)
class StoredSession:
    token_hash: str
    created: datetime
    expires: datetime


class Admin:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def password_hash(self) -> str | None:
        value = await self._db.fetch_value("SELECT password_hash FROM admin_password")
        return None if value is None else str(value)

    async def set_password_hash(self, password_hash: str, now: datetime) -> None:
        """Replace the password; every session ends with the old one."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO admin_password (id, password_hash, updated) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash,"
                " updated = excluded.updated",
                (password_hash, to_db_time(now)),
            )
            await tx.execute("DELETE FROM admin_sessions")

    async def add_session(self, session: StoredSession, now: datetime) -> None:
        """Store a new session, dropping the expired ones."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM admin_sessions WHERE expires <= ?", (to_db_time(now),))
            await tx.execute(
                "INSERT INTO admin_sessions (token_hash, created, expires) VALUES (?, ?, ?)",
                (session.token_hash, to_db_time(session.created), to_db_time(session.expires)),
            )

    async def find_session(self, token_hash: str) -> StoredSession | None:
        row = await self._db.fetch_one(
            "SELECT * FROM admin_sessions WHERE token_hash = ?", (token_hash,)
        )
        if row is None:
            return None
        return StoredSession(
            row["token_hash"], from_db_time(row["created"]), from_db_time(row["expires"])
        )

    async def remove_session(self, token_hash: str) -> bool:
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                "DELETE FROM admin_sessions WHERE token_hash = ?", (token_hash,)
            )
            return cursor.rowcount > 0

    async def prune_login_failures(self, tx: aiosqlite.Connection, before: datetime) -> None:
        await tx.execute(
            "DELETE FROM admin_login_failures WHERE failed <= ?", (to_db_time(before),)
        )

    async def login_failures(self, tx: aiosqlite.Connection, client: str) -> list[datetime]:
        rows = await tx.execute_fetchall(
            "SELECT failed FROM admin_login_failures WHERE client = ? ORDER BY failed", (client,)
        )
        return [from_db_time(row[0]) for row in rows]

    async def add_login_failure(
        self, tx: aiosqlite.Connection, client: str, when: datetime
    ) -> None:
        await tx.execute(
            "INSERT INTO admin_login_failures (client, failed) VALUES (?, ?)",
            (client, to_db_time(when)),
        )

    async def clear_login_failures(self, client: str) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM admin_login_failures WHERE client = ?", (client,))

    async def comment_counts(self) -> dict[CommentState, int]:
        """Comments by state, for the tabs of the admin's comment list."""
        rows = await self._db.fetch_all("SELECT state, COUNT(*) FROM comments GROUP BY state")
        counts = dict.fromkeys(CommentState, 0)
        counts.update({CommentState(row[0]): int(row[1]) for row in rows})
        return counts
