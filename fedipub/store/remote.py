"""What we know of other servers' actors and keys, cached with the time it was fetched."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedipub.store.codec import from_db_time, from_json, to_db_time, to_json
from fedipub.store.connection import Database

# The inbox reads the actor of every activity it stores: documents read or saved within this
# many seconds are answered from memory. A save in this process replaces the memory at once;
# one made by another process (a CLI command) is seen within MEMORY_SECONDS.
MEMORY_SECONDS = 60.0
MEMORY_ACTORS = 4096


@dataclass(frozen=True)
class CachedKey:
    key_id: str
    owner: str
    public_key_pem: str
    fetched_at: datetime


@dataclass(frozen=True)
class CachedActor:
    id: str
    document: dict[str, Any]
    fetched_at: datetime


class RemoteKeys:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def find(self, key_id: str) -> CachedKey | None:
        row = await self._db.fetch_one("SELECT * FROM remote_keys WHERE key_id = ?", (key_id,))
        if row is None:
            return None
        return CachedKey(
            row["key_id"], row["owner"], row["public_key_pem"], from_db_time(row["fetched_at"])
        )

    async def save(self, key: CachedKey) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT OR REPLACE INTO remote_keys (key_id, owner, public_key_pem, fetched_at)"
                " VALUES (?, ?, ?, ?)",
                (key.key_id, key.owner, key.public_key_pem, to_db_time(key.fetched_at)),
            )

    async def forget_owner(self, owner: str) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM remote_keys WHERE owner = ?", (owner,))


class RemoteActors:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._clock = clock
        self._memory: OrderedDict[str, tuple[float, CachedActor]] = OrderedDict()

    async def find(self, actor_id: str) -> CachedActor | None:
        remembered = self._memory.get(actor_id)
        if remembered is not None and self._clock() - remembered[0] < MEMORY_SECONDS:
            self._memory.move_to_end(actor_id)
            return remembered[1]
        row = await self._db.fetch_one("SELECT * FROM remote_actors WHERE id = ?", (actor_id,))
        if row is None:
            self._memory.pop(actor_id, None)
            return None
        document = from_json(row["document"])
        assert isinstance(document, dict)
        actor = CachedActor(row["id"], document, from_db_time(row["fetched_at"]))
        self._remember(actor)
        return actor

    async def save(self, actor: CachedActor) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT OR REPLACE INTO remote_actors (id, document, fetched_at) VALUES (?, ?, ?)",
                (actor.id, to_json(actor.document), to_db_time(actor.fetched_at)),
            )
        self._remember(actor)

    def _remember(self, actor: CachedActor) -> None:
        self._memory[actor.id] = (self._clock(), actor)
        self._memory.move_to_end(actor.id)
        while len(self._memory) > MEMORY_ACTORS:
            self._memory.popitem(last=False)
