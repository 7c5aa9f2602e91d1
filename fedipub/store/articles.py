"""Articles, their tags, and the tombstones of deleted ones."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import aiosqlite

from fedipub.errors import ConflictError, NotFoundError
from fedipub.store.codec import from_db_time, from_json, optional_time, to_db_time, to_json
from fedipub.store.connection import Database
from fedipub.types import Article, ArticleSource, Image, MentionTarget, Page, Tombstone


def _image_to_dict(image: Image) -> dict[str, Any]:
    return {
        "url": image.url,
        "alt": image.alt,
        "media_type": image.media_type,
        "width": image.width,
        "height": image.height,
    }


def _row_to_article(row: sqlite3.Row) -> Article:
    images = from_json(row["images"])
    mentions = from_json(row["mentions"])
    assert isinstance(mentions, list)
    tags = from_json(row["tags"])
    assert isinstance(images, list)
    assert isinstance(tags, list)
    return Article(
        id=row["id"],
        slug=row["slug"],
        title=row["title"],
        body_markdown=row["body_markdown"],
        body_html=row["body_html"],
        summary=row["summary"],
        tags=tuple(str(t) for t in tags),
        language=row["language"],
        content_warning=row["content_warning"],
        images=tuple(Image(**item) for item in images),
        published=from_db_time(row["published"]),
        updated=optional_time(row["updated"]),
        source_hash=row["source_hash"],
        mentions=tuple(MentionTarget(**item) for item in mentions),
    )


def _columns(
    source: ArticleSource,
    body_html: str,
    source_hash: str,
    mentions: tuple[MentionTarget, ...],
) -> tuple[Any, ...]:
    return (
        source.title,
        source.body_markdown,
        body_html,
        source.summary,
        to_json(list(source.tags)),
        source.language,
        source.content_warning,
        to_json([_image_to_dict(i) for i in source.images]),
        source_hash,
        to_json([m.__dict__ for m in mentions]),
    )


async def _write_tags(tx: aiosqlite.Connection, article_id: int, tags: tuple[str, ...]) -> None:
    await tx.execute("DELETE FROM article_tags WHERE article_id = ?", (article_id,))
    await tx.executemany(
        "INSERT OR IGNORE INTO article_tags (tag, article_id) VALUES (?, ?)",
        [(tag.lower(), article_id) for tag in tags],
    )


class Articles:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(
        self,
        tx: aiosqlite.Connection,
        source: ArticleSource,
        *,
        body_html: str,
        source_hash: str,
        published: datetime,
        mentions: tuple[MentionTarget, ...] = (),
    ) -> int:
        try:
            cursor = await tx.execute(
                "INSERT INTO articles (title, body_markdown, body_html, summary, tags, language,"
                " content_warning, images, source_hash, mentions, slug, published)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *_columns(source, body_html, source_hash, mentions),
                    source.slug,
                    to_db_time(published),
                ),
            )
        except sqlite3.IntegrityError:
            raise ConflictError(f"an article with slug {source.slug!r} exists") from None
        article_id = cursor.lastrowid
        assert article_id is not None
        await tx.execute("DELETE FROM tombstones WHERE slug = ?", (source.slug,))
        await _write_tags(tx, article_id, source.tags)
        return article_id

    async def update(
        self,
        tx: aiosqlite.Connection,
        article_id: int,
        source: ArticleSource,
        *,
        body_html: str,
        source_hash: str,
        updated: datetime,
        mentions: tuple[MentionTarget, ...] = (),
    ) -> None:
        await tx.execute(
            "UPDATE articles SET title = ?, body_markdown = ?, body_html = ?, summary = ?,"
            " tags = ?, language = ?, content_warning = ?, images = ?, source_hash = ?,"
            " mentions = ?, updated = ? WHERE id = ?",
            (
                *_columns(source, body_html, source_hash, mentions),
                to_db_time(updated),
                article_id,
            ),
        )
        await _write_tags(tx, article_id, source.tags)

    async def delete(self, tx: aiosqlite.Connection, article: Article, deleted: datetime) -> None:
        await tx.execute("DELETE FROM articles WHERE id = ?", (article.id,))
        await tx.execute(
            "INSERT OR REPLACE INTO tombstones (slug, published, deleted) VALUES (?, ?, ?)",
            (article.slug, to_db_time(article.published), to_db_time(deleted)),
        )

    async def find(self, slug: str) -> Article | None:
        row = await self._db.fetch_one("SELECT * FROM articles WHERE slug = ?", (slug,))
        return None if row is None else _row_to_article(row)

    async def find_by_id(self, article_id: int) -> Article | None:
        row = await self._db.fetch_one("SELECT * FROM articles WHERE id = ?", (article_id,))
        return None if row is None else _row_to_article(row)

    async def get(self, slug: str) -> Article:
        article = await self.find(slug)
        if article is None:
            raise NotFoundError(f"no article with slug {slug!r}")
        return article

    async def find_tombstone(self, slug: str) -> Tombstone | None:
        row = await self._db.fetch_one("SELECT * FROM tombstones WHERE slug = ?", (slug,))
        if row is None:
            return None
        return Tombstone(
            slug=row["slug"],
            deleted=from_db_time(row["deleted"]),
            published=from_db_time(row["published"]),
        )

    async def page(self, page: int, page_size: int, *, tag: str | None = None) -> Page[Article]:
        offset = (page - 1) * page_size
        if tag is None:
            total = await self._db.fetch_value("SELECT COUNT(*) FROM articles")
            rows = await self._db.fetch_all(
                "SELECT * FROM articles ORDER BY published DESC, id DESC LIMIT ? OFFSET ?",
                (page_size, offset),
            )
        else:
            total = await self._db.fetch_value(
                "SELECT COUNT(*) FROM article_tags WHERE tag = ?", (tag.lower(),)
            )
            rows = await self._db.fetch_all(
                "SELECT a.* FROM articles a JOIN article_tags t ON t.article_id = a.id"
                " WHERE t.tag = ? ORDER BY a.published DESC, a.id DESC LIMIT ? OFFSET ?",
                (tag.lower(), page_size, offset),
            )
        return Page(tuple(map(_row_to_article, rows)), int(total), page, page_size)

    async def source_hashes(self) -> dict[str, str]:
        rows = await self._db.fetch_all("SELECT slug, source_hash FROM articles")
        return {row["slug"]: row["source_hash"] for row in rows}

    async def count(self) -> int:
        return int(await self._db.fetch_value("SELECT COUNT(*) FROM articles"))

    async def latest_change(self) -> datetime | None:
        value = await self._db.fetch_value("SELECT MAX(COALESCE(updated, published)) FROM articles")
        return None if value is None else from_db_time(value)
