"""What the inbox saw and decided: the audit trail, and the ids seen (for idempotency)."""

from __future__ import annotations

from datetime import datetime

from fedipub.store.codec import from_db_time, to_db_time
from fedipub.store.connection import Database
from fedipub.types import InboxLogEntry, InboxOutcome


class InboxLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def mark_seen(self, activity_id: str, when: datetime) -> None:
        """Record an activity id (a redelivery changes nothing); committed on return, in a
        group commit with the other inbox requests of the moment."""
        await self._db.append(
            (
                "INSERT OR IGNORE INTO seen_activities (id, received) VALUES (?, ?)",
                (activity_id, to_db_time(when)),
            )
        )

    async def seen(self, activity_id: str) -> bool:
        found = await self._db.fetch_value(
            "SELECT 1 FROM seen_activities WHERE id = ?", (activity_id,)
        )
        return found is not None

    async def record(self, entry: InboxLogEntry) -> None:
        """Committed on return, in a group commit with the other inbox requests of the moment."""
        await self._db.append(
            (
                "INSERT INTO inbox_log (received, activity_id, activity_type, actor, outcome,"
                " reason) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    to_db_time(entry.received),
                    entry.activity_id,
                    entry.activity_type,
                    entry.actor,
                    entry.outcome.value,
                    entry.reason[:500],
                ),
            )
        )

    async def recent(self, limit: int = 100, *, search: str | None = None) -> list[InboxLogEntry]:
        if search:
            pattern = f"%{search}%"
            rows = await self._db.fetch_all(
                "SELECT * FROM inbox_log WHERE activity_id LIKE ? OR actor LIKE ?"
                " OR reason LIKE ? ORDER BY id DESC LIMIT ?",
                (pattern, pattern, pattern, limit),
            )
        else:
            rows = await self._db.fetch_all(
                "SELECT * FROM inbox_log ORDER BY id DESC LIMIT ?", (limit,)
            )
        return [
            InboxLogEntry(
                received=from_db_time(row["received"]),
                activity_id=row["activity_id"],
                activity_type=row["activity_type"],
                actor=row["actor"],
                outcome=InboxOutcome(row["outcome"]),
                reason=row["reason"],
            )
            for row in rows
        ]
