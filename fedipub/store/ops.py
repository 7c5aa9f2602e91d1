"""What operating the server asks of the database: queue health, the schema's state, integrity,
and consistent copies for backups.

The queue figures run on the server's reader connection; the rest opens the file itself, since
`fedipub doctor` and `fedipub backup` must neither migrate nor wait for a server to stop.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fedipub.errors import StoreError
from fedipub.store.codec import from_db_time
from fedipub.store.connection import Database
from fedipub.store.migrations import migrations

# Long enough for the server's longest write transaction to finish.
_BUSY_TIMEOUT = 30.0


@dataclass(frozen=True)
class QueueStats:
    """Deliveries not yet delivered nor given up, and when the oldest of them was queued."""

    depth: int
    oldest_pending: datetime | None


@dataclass(frozen=True)
class SchemaState:
    applied: tuple[str, ...]
    pending: tuple[str, ...]  # known to this release, not applied yet
    unknown: tuple[str, ...]  # applied by a newer release


@dataclass(frozen=True)
class DatabaseReport:
    schema: SchemaState
    problems: tuple[str, ...]  # what PRAGMA integrity_check found; empty when sound
    latest_article: str | None  # its slug


class Ops:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def queue_stats(self) -> QueueStats:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS depth, MIN(created) AS oldest FROM deliveries"
            " WHERE state = 'pending'"
        )
        if row is None or not row["depth"]:
            return QueueStats(0, None)
        return QueueStats(int(row["depth"]), from_db_time(str(row["oldest"])))


def _open_existing(path: Path, *, timeout: float = _BUSY_TIMEOUT) -> sqlite3.Connection:
    """Open without creating: `sqlite3.connect` would make an empty database of a typo."""
    if not path.is_file():
        raise StoreError(f"no database at {path}")
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=timeout)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc


def _schema(db: sqlite3.Connection) -> SchemaState:
    has_table = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    applied = (
        [row[0] for row in db.execute("SELECT name FROM schema_migrations ORDER BY name")]
        if has_table
        else []
    )
    known = [name for name, _ in migrations()]
    return SchemaState(
        applied=tuple(applied),
        pending=tuple(name for name in known if name not in applied),
        unknown=tuple(name for name in applied if name not in known),
    )


def schema_state(path: Path) -> SchemaState:
    try:
        with closing(_open_existing(path)) as db:
            return _schema(db)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc


def inspect_database(path: Path) -> DatabaseReport:
    """Schema state, `PRAGMA integrity_check` (reads every page: seconds per GB) and the
    latest article, without changing anything."""
    try:
        with closing(_open_existing(path)) as db:
            found = [str(row[0]) for row in db.execute("PRAGMA integrity_check")]
            schema = _schema(db)
            latest = None
            if "0001_articles_activities_followers" in schema.applied:
                row = db.execute(
                    "SELECT slug FROM articles ORDER BY published DESC LIMIT 1"
                ).fetchone()
                latest = None if row is None else str(row[0])
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    problems = () if found == ["ok"] else tuple(found)
    return DatabaseReport(schema, problems, latest)


def backup_database(source: Path, target: Path) -> None:
    """Copy the database as of one moment while the server keeps writing: sqlite3's online
    backup API copies every page under one read transaction, the WAL's committed
    transactions included. Copying the file would miss those, or tear a page mid-write."""
    try:
        with closing(_open_existing(source)) as src, closing(sqlite3.connect(target)) as dst:
            # One step (pages=-1): a copy in several steps restarts whenever the server writes.
            src.backup(dst, pages=-1)
            problems = [str(row[0]) for row in dst.execute("PRAGMA quick_check")]
    except sqlite3.Error as exc:
        raise StoreError(f"backing up {source} failed: {exc}") from exc
    if problems != ["ok"]:
        raise StoreError(f"the copy of {source} is damaged: {'; '.join(problems[:3])}")


def check_integrity(path: Path) -> tuple[str, ...]:
    """What `PRAGMA integrity_check` finds wrong; empty when the database is sound."""
    return inspect_database(path).problems
