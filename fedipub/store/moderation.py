"""The admin's side of the inbox: blocks, mentions kept for the admin, and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from fedipub.store.codec import from_db_time, from_json, to_db_time, to_json
from fedipub.store.connection import Database
from fedipub.types import BlockKind


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    value: str
    created: datetime


@dataclass(frozen=True)
class MentionNote:
    id: str
    actor_id: str
    author_handle: str
    content_html: str
    url: str
    visibility: str
    received: datetime


@dataclass(frozen=True)
class Report:
    id: str
    actor_id: str
    object_ids: tuple[str, ...]
    content: str
    received: datetime


class Moderation:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_block(self, tx: aiosqlite.Connection, block: Block) -> bool:
        cursor = await tx.execute(
            "INSERT OR IGNORE INTO blocks (kind, value, created) VALUES (?, ?, ?)",
            (block.kind.value, block.value, to_db_time(block.created)),
        )
        return cursor.rowcount > 0

    async def remove_block(self, kind: BlockKind, value: str) -> bool:
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                "DELETE FROM blocks WHERE kind = ? AND value = ?", (kind.value, value)
            )
            return cursor.rowcount > 0

    async def blocks(self) -> list[Block]:
        rows = await self._db.fetch_all("SELECT * FROM blocks ORDER BY kind, value")
        return [
            Block(BlockKind(row["kind"]), row["value"], from_db_time(row["created"]))
            for row in rows
        ]

    async def is_blocked(self, actor_id: str, domain: str) -> bool:
        found = await self._db.fetch_value(
            "SELECT 1 FROM blocks WHERE (kind = ? AND value = ?) OR (kind = ? AND value = ?)",
            (BlockKind.ACTOR.value, actor_id, BlockKind.DOMAIN.value, domain),
        )
        return found is not None

    async def keywords(self) -> list[str]:
        rows = await self._db.fetch_all(
            "SELECT value FROM blocks WHERE kind = ?", (BlockKind.KEYWORD.value,)
        )
        return [row[0] for row in rows]

    async def add_mention(self, tx: aiosqlite.Connection, mention: MentionNote) -> None:
        await tx.execute(
            "INSERT OR IGNORE INTO mentions (id, actor_id, author_handle, content_html, url,"
            " visibility, received) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                mention.id,
                mention.actor_id,
                mention.author_handle,
                mention.content_html,
                mention.url,
                mention.visibility,
                to_db_time(mention.received),
            ),
        )

    async def mentions(self, limit: int = 100) -> list[MentionNote]:
        rows = await self._db.fetch_all(
            "SELECT * FROM mentions ORDER BY received DESC LIMIT ?", (limit,)
        )
        return [
            MentionNote(
                row["id"],
                row["actor_id"],
                row["author_handle"],
                row["content_html"],
                row["url"],
                row["visibility"],
                from_db_time(row["received"]),
            )
            for row in rows
        ]

    async def add_report(self, tx: aiosqlite.Connection, report: Report) -> None:
        await tx.execute(
            "INSERT OR IGNORE INTO reports (id, actor_id, object_ids, content, received)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                report.id,
                report.actor_id,
                to_json(list(report.object_ids)),
                report.content,
                to_db_time(report.received),
            ),
        )

    async def reports(self, limit: int = 100) -> list[Report]:
        rows = await self._db.fetch_all(
            "SELECT * FROM reports ORDER BY received DESC LIMIT ?", (limit,)
        )
        reports = []
        for row in rows:
            ids = from_json(row["object_ids"])
            assert isinstance(ids, list)
            reports.append(
                Report(
                    row["id"],
                    row["actor_id"],
                    tuple(map(str, ids)),
                    row["content"],
                    from_db_time(row["received"]),
                )
            )
        return reports
