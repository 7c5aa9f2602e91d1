"""Opening the SQLite database: pragmas, migrations, and the write transaction.

Two connections: one writer (serialised by a lock, so a transaction is never interleaved with
another task's statements) and one reader that sees only committed rows (WAL mode).

Writes whose result nobody reads (the inbox's audit lines and the activity ids it has seen,
deliveries marked done) are `append`ed: the ones waiting at the same moment share one
transaction (a group commit). Every statement on the writer is a hand-off to its thread and
back, and while a transaction holds the lock each hand-off waits for the event loop's turn;
under load that chain of turns, not SQLite, is what limits how many requests the inbox takes
and how fast deliveries go (bench/).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from fedipub.errors import StoreError
from fedipub.store.migrations import migrations

_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
)


class Database:
    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._appends: list[tuple[list[tuple[str, tuple[Any, ...]]], asyncio.Future[None]]] = []
        self._appending: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT on the writer; rolled back if the block raises."""
        async with self._write_lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot start a transaction: {exc}") from exc
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            try:
                await self._writer.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"commit failed: {exc}") from exc

    async def append(self, *statements: tuple[str, Sequence[Any]]) -> None:
        """Run writes whose outcome nobody reads, in one transaction with the other appends
        waiting at the same moment (a group commit); returns once they are committed
        (StoreError if that failed). One call's statements always share a transaction.

        Only for statements that cannot fail on their own rows (INSERT OR IGNORE, an insert
        into a log, an UPDATE by key) and that commute with the other appends: a batch runs
        them grouped by SQL text (each group as one executemany), and one failure fails the
        whole batch."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._appends.append(([(sql, tuple(params)) for sql, params in statements], future))
        if self._appending is None:
            self._appending = asyncio.create_task(self._commit_appends())
        await future

    async def _commit_appends(self) -> None:
        try:
            while self._appends:
                batch, self._appends = self._appends, []
                groups: dict[str, list[tuple[Any, ...]]] = {}
                for statements, _ in batch:
                    for sql, params in statements:
                        groups.setdefault(sql, []).append(params)
                try:
                    async with self.transaction() as tx:
                        for sql, rows in groups.items():
                            await tx.executemany(sql, rows)
                except BaseException as exc:
                    # Every caller hears of it, whatever it was; only store errors stop here.
                    failure = exc if isinstance(exc, StoreError) else StoreError(str(exc))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(failure)
                    if not isinstance(exc, sqlite3.Error | StoreError):
                        raise
                    continue
                for _, future in batch:
                    if not future.done():  # done: its caller was cancelled
                        future.set_result(None)
        finally:
            self._appending = None

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        try:
            # One trip to the reader's thread (execute and fetch together), not three: under
            # load the hand-offs between threads, not the queries, are what a read costs.
            return list(await self._reader.execute_fetchall(sql, tuple(params)))
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def close(self) -> None:
        if self._appending is not None:
            await self._appending
        await self._reader.close()
        await self._writer.close()


async def _connect(path: Path) -> aiosqlite.Connection:
    try:
        connection = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    connection.row_factory = sqlite3.Row
    for pragma in _PRAGMAS:
        await connection.execute(pragma)
    return connection


async def applied_migrations(connection: aiosqlite.Connection) -> list[str]:
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied TEXT)"
    )
    async with connection.execute("SELECT name FROM schema_migrations ORDER BY name") as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def migrate(connection: aiosqlite.Connection) -> list[str]:
    """Apply the migrations this database lacks; returns their names. Refuses a newer schema."""
    done = await applied_migrations(connection)
    known = [name for name, _ in migrations()]
    unknown = [name for name in done if name not in known]
    if unknown:
        raise StoreError(
            f"the database was migrated by a newer fedipub ({unknown[-1]}); "
            "downgrading is not supported: install that version again or restore a backup"
        )
    applied: list[str] = []
    for name, sql in migrations():
        if name in done:
            continue
        statements = [s for s in sql.split(";") if s.strip()]
        await connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                await connection.execute(statement)
            await connection.execute(
                "INSERT INTO schema_migrations (name, applied) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat()),
            )
        except BaseException:
            await connection.execute("ROLLBACK")
            raise
        await connection.execute("COMMIT")
        applied.append(name)
    return applied


async def open_database(path: Path) -> Database:
    writer = await _connect(path)
    try:
        await migrate(writer)
    except sqlite3.Error as exc:
        await writer.close()
        raise StoreError(f"migrating {path} failed: {exc}") from exc
    except StoreError:
        await writer.close()
        raise
    reader = await _connect(path)
    return Database(writer, reader)
