"""Comments: replies from the fediverse to our articles, threaded by `parent_id`."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

import aiosqlite

from fedipub.store.codec import from_db_time, from_json, optional_time, to_db_time, to_json
from fedipub.store.connection import Database
from fedipub.types import Comment, CommentAttachment, CommentState, Person, Visibility

_PUBLIC = (Visibility.PUBLIC.value, Visibility.UNLISTED.value)


def _row_to_comment(row: sqlite3.Row) -> Comment:
    attachments = from_json(row["attachments"])
    emojis = from_json(row["emojis"])
    assert isinstance(attachments, list)
    assert isinstance(emojis, list)
    return Comment(
        id=row["id"],
        article_id=row["article_id"],
        parent_id=row["parent_id"],
        author=Person(
            row["author_id"],
            row["author_name"],
            row["author_handle"],
            row["author_avatar"],
            row["author_url"],
        ),
        content_html=row["content_html"],
        summary=row["summary"],
        sensitive=bool(row["sensitive"]),
        language=row["language"],
        attachments=tuple(CommentAttachment(**a) for a in attachments),
        emojis=tuple((str(e[0]), str(e[1])) for e in emojis),
        url=row["url"],
        visibility=Visibility(row["visibility"]),
        state=CommentState(row["state"]),
        is_local=bool(row["is_local"]),
        replies_collection=row["replies_collection"],
        published=from_db_time(row["published"]),
        updated=optional_time(row["updated"]),
    )


class Comments:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, tx: aiosqlite.Connection, comment: Comment, received: datetime) -> bool:
        """Store a new comment; False when one with this id exists already."""
        cursor = await tx.execute(
            "INSERT OR IGNORE INTO comments (id, article_id, parent_id, author_id, author_name,"
            " author_handle, author_avatar, author_url, content_html, summary, sensitive,"
            " language, attachments, emojis, url, visibility, state, is_local,"
            " replies_collection, published, updated, received)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                comment.id,
                comment.article_id,
                comment.parent_id,
                comment.author.id,
                comment.author.name,
                comment.author.handle,
                comment.author.avatar,
                comment.author.url,
                comment.content_html,
                comment.summary,
                int(comment.sensitive),
                comment.language,
                to_json([a.__dict__ for a in comment.attachments]),
                to_json([list(e) for e in comment.emojis]),
                comment.url,
                comment.visibility.value,
                comment.state.value,
                int(comment.is_local),
                comment.replies_collection,
                to_db_time(comment.published),
                None if comment.updated is None else to_db_time(comment.updated),
                to_db_time(received),
            ),
        )
        return cursor.rowcount > 0

    async def edit(self, tx: aiosqlite.Connection, comment: Comment) -> None:
        """An author's edit: the content and its warning change, the thread does not."""
        await tx.execute(
            "UPDATE comments SET content_html = ?, summary = ?, sensitive = ?, language = ?,"
            " attachments = ?, emojis = ?, updated = ? WHERE id = ?",
            (
                comment.content_html,
                comment.summary,
                int(comment.sensitive),
                comment.language,
                to_json([a.__dict__ for a in comment.attachments]),
                to_json([list(e) for e in comment.emojis]),
                None if comment.updated is None else to_db_time(comment.updated),
                comment.id,
            ),
        )

    async def set_state(
        self, tx: aiosqlite.Connection, comment_id: str, state: CommentState
    ) -> bool:
        cursor = await tx.execute(
            "UPDATE comments SET state = ? WHERE id = ?", (state.value, comment_id)
        )
        return cursor.rowcount > 0

    async def remove(self, tx: aiosqlite.Connection, comment_id: str) -> None:
        """Delete a comment: a placeholder stays while replies hang from it, so the thread
        keeps its shape; without replies the row goes."""
        row = await tx.execute_fetchall(
            "SELECT COUNT(*) FROM comments WHERE parent_id = ?", (comment_id,)
        )
        if next(iter(row))[0]:
            await tx.execute(
                "UPDATE comments SET state = ?, content_html = '', summary = NULL,"
                " attachments = '[]', emojis = '[]' WHERE id = ?",
                (CommentState.DELETED.value, comment_id),
            )
        else:
            await tx.execute("DELETE FROM comments WHERE id = ?", (comment_id,))

    async def remove_by_author(self, tx: aiosqlite.Connection, author_id: str) -> int:
        ids = [
            row[0]
            for row in await tx.execute_fetchall(
                "SELECT id FROM comments WHERE author_id = ?", (author_id,)
            )
        ]
        for comment_id in ids:
            await self.remove(tx, comment_id)
        return len(ids)

    async def remove_by_domain(self, tx: aiosqlite.Connection, domain: str) -> int:
        ids = [
            row[0]
            for row in await tx.execute_fetchall("SELECT id, author_id FROM comments")
            if _host(row[1]) == domain
        ]
        for comment_id in ids:
            await self.remove(tx, comment_id)
        return len(ids)

    async def refresh_author(self, tx: aiosqlite.Connection, person: Person) -> None:
        await tx.execute(
            "UPDATE comments SET author_name = ?, author_handle = ?, author_avatar = ?,"
            " author_url = ? WHERE author_id = ?",
            (person.name, person.handle, person.avatar, person.url, person.id),
        )

    async def find(self, comment_id: str) -> Comment | None:
        row = await self._db.fetch_one("SELECT * FROM comments WHERE id = ?", (comment_id,))
        return None if row is None else _row_to_comment(row)

    async def for_article(self, article_id: int, *, public_only: bool = True) -> list[Comment]:
        """The article's comments, oldest first: what the page and `replies` show when
        `public_only` (shown, public or unlisted, plus deleted placeholders)."""
        if public_only:
            rows = await self._db.fetch_all(
                "SELECT * FROM comments WHERE article_id = ? AND visibility IN (?, ?)"
                " AND state IN (?, ?) ORDER BY published, id",
                (article_id, *_PUBLIC, CommentState.SHOWN.value, CommentState.DELETED.value),
            )
        else:
            rows = await self._db.fetch_all(
                "SELECT * FROM comments WHERE article_id = ? ORDER BY published, id",
                (article_id,),
            )
        return [_row_to_comment(row) for row in rows]

    async def count_shown(self, article_id: int) -> int:
        return int(
            await self._db.fetch_value(
                "SELECT COUNT(*) FROM comments WHERE article_id = ? AND visibility IN (?, ?)"
                " AND state = ?",
                (article_id, *_PUBLIC, CommentState.SHOWN.value),
            )
        )

    async def count_all_shown(self) -> int:
        return int(
            await self._db.fetch_value(
                "SELECT COUNT(*) FROM comments WHERE visibility IN (?, ?) AND state = ?",
                (*_PUBLIC, CommentState.SHOWN.value),
            )
        )

    async def with_state(self, states: Sequence[CommentState], limit: int = 500) -> list[Comment]:
        marks = ", ".join("?" for _ in states)
        rows = await self._db.fetch_all(
            f"SELECT * FROM comments WHERE state IN ({marks}) ORDER BY received DESC LIMIT ?",  # noqa: S608
            (*(s.value for s in states), limit),
        )
        return [_row_to_comment(row) for row in rows]

    async def has_shown_comment_by(self, author_id: str) -> bool:
        value = await self._db.fetch_value(
            "SELECT 1 FROM comments WHERE author_id = ? AND state = ? LIMIT 1",
            (author_id, CommentState.SHOWN.value),
        )
        return value is not None

    async def with_replies_to_crawl(self, limit: int) -> list[Comment]:
        rows = await self._db.fetch_all(
            "SELECT * FROM comments WHERE replies_collection IS NOT NULL AND is_local = 0"
            " AND state = ? ORDER BY received DESC LIMIT ?",
            (CommentState.SHOWN.value, limit),
        )
        return [_row_to_comment(row) for row in rows]


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
