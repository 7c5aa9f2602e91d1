"""Our own activities (the outbox), kept so that every activity id we send is dereferenceable."""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite

from fedipub.store.codec import from_db_time, from_json, to_db_time, to_json
from fedipub.store.connection import Database
from fedipub.types import Page, StoredActivity


def _row_to_activity(row: sqlite3.Row) -> StoredActivity:
    document = from_json(row["document"])
    assert isinstance(document, dict)
    return StoredActivity(
        id=row["id"],
        type=row["type"],
        object_id=row["object_id"],
        document=document,
        published=from_db_time(row["published"]),
    )


class Activities:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, tx: aiosqlite.Connection, activity: StoredActivity, *, in_outbox: bool
    ) -> None:
        await tx.execute(
            "INSERT INTO activities (id, type, object_id, document, published, in_outbox)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                activity.id,
                activity.type,
                activity.object_id,
                to_json(activity.document),
                to_db_time(activity.published),
                int(in_outbox),
            ),
        )

    async def create_ids(self, tx: aiosqlite.Connection, object_id: str) -> list[str]:
        rows = await tx.execute_fetchall(
            "SELECT id FROM activities WHERE object_id = ? AND type = 'Create'", (object_id,)
        )
        return [row[0] for row in rows]

    async def replace_document(
        self, tx: aiosqlite.Connection, activity_id: str, document: dict[str, Any]
    ) -> None:
        await tx.execute(
            "UPDATE activities SET document = ? WHERE id = ?", (to_json(document), activity_id)
        )

    async def withdraw(self, tx: aiosqlite.Connection, object_id: str) -> None:
        """Take a deleted object's activities out of the outbox (the Delete itself stays)."""
        await tx.execute(
            "UPDATE activities SET in_outbox = 0 WHERE object_id = ? AND type != 'Delete'",
            (object_id,),
        )

    async def find(self, activity_id: str) -> StoredActivity | None:
        row = await self._db.fetch_one("SELECT * FROM activities WHERE id = ?", (activity_id,))
        return None if row is None else _row_to_activity(row)

    async def find_object(self, object_id: str) -> dict[str, Any] | None:
        """An object we created (the author's replies), as its Create embeds it."""
        row = await self._db.fetch_one(
            "SELECT document FROM activities WHERE object_id = ? AND type = 'Create'"
            " ORDER BY published DESC LIMIT 1",
            (object_id,),
        )
        if row is None:
            return None
        document = from_json(row["document"])
        assert isinstance(document, dict)
        found = document.get("object")
        return found if isinstance(found, dict) else None

    async def outbox_page(self, page: int, page_size: int) -> Page[StoredActivity]:
        total = await self._db.fetch_value("SELECT COUNT(*) FROM activities WHERE in_outbox = 1")
        rows = await self._db.fetch_all(
            "SELECT * FROM activities WHERE in_outbox = 1"
            " ORDER BY published DESC, rowid DESC LIMIT ? OFFSET ?",
            (page_size, (page - 1) * page_size),
        )
        return Page(tuple(map(_row_to_activity, rows)), int(total), page, page_size)
