"""The schema: built from an empty database, upgraded in place, never downgraded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fedipub.errors import StoreError
from fedipub.store import open_store
from fedipub.store.migrations import migrations

pytestmark = pytest.mark.anyio


async def test_an_empty_database_gets_every_migration(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "db.sqlite3")
    assert await store.ping()
    await store.close()
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        names = [row[0] for row in db.execute("SELECT name FROM schema_migrations ORDER BY name")]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert names == [name for name, _ in migrations()]
    assert {"articles", "article_tags", "tombstones", "activities", "followers"} <= tables
    assert journal == "wal"


async def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    for _ in range(2):
        store = await open_store(tmp_path / "db.sqlite3")
        await store.close()
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(
            migrations()
        )


async def test_a_database_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "db.sqlite3")
    await store.close()
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        db.execute("INSERT INTO schema_migrations VALUES ('9999_from_the_future', '')")
    with pytest.raises(StoreError, match="downgrading is not supported"):
        await open_store(tmp_path / "db.sqlite3")
