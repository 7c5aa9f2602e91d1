"""Storage: every SQL statement of fedipub lives in this package.

A PostgreSQL backend can be added beside SQLite without touching the callers, which see only
`Store` and its repositories.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from fedipub.store.activities import Activities
from fedipub.store.admin import Admin
from fedipub.store.articles import Articles
from fedipub.store.comments import Comments
from fedipub.store.connection import Database, open_database
from fedipub.store.deliveries import Deliveries
from fedipub.store.followers import Followers
from fedipub.store.inbox_log import InboxLog
from fedipub.store.moderation import Moderation
from fedipub.store.ops import Ops
from fedipub.store.reactions import Reactions
from fedipub.store.remote import RemoteActors, RemoteKeys

__all__ = ["Store", "Transaction", "open_store"]

Transaction = aiosqlite.Connection


class Store:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.articles = Articles(db)
        self.activities = Activities(db)
        self.deliveries = Deliveries(db)
        self.followers = Followers(db)
        self.remote_keys = RemoteKeys(db)
        self.remote_actors = RemoteActors(db)
        self.comments = Comments(db)
        self.reactions = Reactions(db)
        self.inbox_log = InboxLog(db)
        self.moderation = Moderation(db)
        self.ops = Ops(db)
        self.admin = Admin(db)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._db.transaction() as tx:
            yield tx

    async def ping(self) -> bool:
        return bool(await self._db.fetch_value("SELECT 1") == 1)

    async def close(self) -> None:
        await self._db.close()


async def open_store(path: Path) -> Store:
    """Open (creating and migrating as needed) the SQLite database at `path`."""
    return Store(await open_database(path))
