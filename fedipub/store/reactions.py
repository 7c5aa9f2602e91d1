"""Likes, boosts (Announce) and emoji reactions on our articles: their rating."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from urllib.parse import urlsplit

import aiosqlite

from fedipub.store.codec import from_db_time, to_db_time
from fedipub.store.connection import Database
from fedipub.types import Person, Reaction, ReactionKind


def _row_to_reaction(row: sqlite3.Row) -> Reaction:
    return Reaction(
        activity_id=row["activity_id"],
        kind=ReactionKind(row["kind"]),
        article_id=row["article_id"],
        actor=Person(
            row["actor_id"],
            row["actor_name"],
            row["actor_handle"],
            row["actor_avatar"],
            row["actor_url"],
        ),
        emoji=row["emoji"],
        created=from_db_time(row["created"]),
    )


class Reactions:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, tx: aiosqlite.Connection, reaction: Reaction) -> bool:
        """Count a reaction once per actor, kind and emoji; False if it was counted already."""
        cursor = await tx.execute(
            "INSERT OR IGNORE INTO reactions (activity_id, kind, article_id, actor_id,"
            " actor_name, actor_handle, actor_avatar, actor_url, emoji, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                reaction.activity_id,
                reaction.kind.value,
                reaction.article_id,
                reaction.actor.id,
                reaction.actor.name,
                reaction.actor.handle,
                reaction.actor.avatar,
                reaction.actor.url,
                reaction.emoji,
                to_db_time(reaction.created),
            ),
        )
        return cursor.rowcount > 0

    async def find(self, activity_id: str) -> Reaction | None:
        row = await self._db.fetch_one(
            "SELECT * FROM reactions WHERE activity_id = ?", (activity_id,)
        )
        return None if row is None else _row_to_reaction(row)

    async def remove(self, tx: aiosqlite.Connection, activity_id: str) -> None:
        await tx.execute("DELETE FROM reactions WHERE activity_id = ?", (activity_id,))

    async def remove_matching(
        self, tx: aiosqlite.Connection, actor_id: str, article_id: int, kind: ReactionKind
    ) -> int:
        """For an Undo whose object names no id we know: the actor's reactions of that kind."""
        cursor = await tx.execute(
            "DELETE FROM reactions WHERE actor_id = ? AND article_id = ? AND kind = ?",
            (actor_id, article_id, kind.value),
        )
        return cursor.rowcount

    async def like_comment(
        self,
        tx: aiosqlite.Connection,
        activity_id: str,
        comment_id: str,
        actor_id: str,
        created: datetime,
    ) -> bool:
        """Count a like of a comment once per actor; False if it was counted already."""
        cursor = await tx.execute(
            "INSERT OR IGNORE INTO comment_likes (activity_id, comment_id, actor_id, created)"
            " VALUES (?, ?, ?, ?)",
            (activity_id, comment_id, actor_id, to_db_time(created)),
        )
        return cursor.rowcount > 0

    async def comment_like_actor(self, activity_id: str) -> str | None:
        """Who liked, for the like of a comment with this activity id."""
        value = await self._db.fetch_value(
            "SELECT actor_id FROM comment_likes WHERE activity_id = ?", (activity_id,)
        )
        return None if value is None else str(value)

    async def unlike_comment(self, tx: aiosqlite.Connection, activity_id: str) -> None:
        await tx.execute("DELETE FROM comment_likes WHERE activity_id = ?", (activity_id,))

    async def comment_like_counts(self, article_id: int) -> dict[str, int]:
        rows = await self._db.fetch_all(
            "SELECT l.comment_id, COUNT(*) FROM comment_likes l"
            " JOIN comments c ON c.id = l.comment_id WHERE c.article_id = ?"
            " GROUP BY l.comment_id",
            (article_id,),
        )
        return {row[0]: int(row[1]) for row in rows}

    async def remove_by_actor(self, tx: aiosqlite.Connection, actor_id: str) -> None:
        await tx.execute("DELETE FROM comment_likes WHERE actor_id = ?", (actor_id,))
        await tx.execute("DELETE FROM reactions WHERE actor_id = ?", (actor_id,))

    async def remove_by_domain(self, tx: aiosqlite.Connection, domain: str) -> None:
        rows = await tx.execute_fetchall("SELECT activity_id, actor_id FROM reactions")
        gone = [(row[0],) for row in rows if (urlsplit(row[1]).hostname or "").lower() == domain]
        await tx.executemany("DELETE FROM reactions WHERE activity_id = ?", gone)

    async def refresh_actor(self, tx: aiosqlite.Connection, person: Person) -> None:
        await tx.execute(
            "UPDATE reactions SET actor_name = ?, actor_handle = ?, actor_avatar = ?,"
            " actor_url = ? WHERE actor_id = ?",
            (person.name, person.handle, person.avatar, person.url, person.id),
        )

    async def for_article(self, article_id: int) -> list[Reaction]:
        rows = await self._db.fetch_all(
            "SELECT * FROM reactions WHERE article_id = ? ORDER BY created", (article_id,)
        )
        return [_row_to_reaction(row) for row in rows]

    async def counts(self, article_id: int) -> dict[ReactionKind, int]:
        rows = await self._db.fetch_all(
            "SELECT kind, COUNT(*) FROM reactions WHERE article_id = ? GROUP BY kind",
            (article_id,),
        )
        found = {ReactionKind(row[0]): int(row[1]) for row in rows}
        return {kind: found.get(kind, 0) for kind in ReactionKind}
