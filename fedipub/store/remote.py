"""What we know of other servers' actors and keys, cached with the time it was fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedipub.store.codec import from_db_time, from_json, to_db_time, to_json
from fedipub.store.connection import Database


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
    def __init__(self, db: Database) -> None:
        self._db = db

    async def find(self, actor_id: str) -> CachedActor | None:
        row = await self._db.fetch_one("SELECT * FROM remote_actors WHERE id = ?", (actor_id,))
        if row is None:
            return None
        document = from_json(row["document"])
        assert isinstance(document, dict)
        return CachedActor(row["id"], document, from_db_time(row["fetched_at"]))

    async def save(self, actor: CachedActor) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT OR REPLACE INTO remote_actors (id, document, fetched_at) VALUES (?, ?, ?)",
                (actor.id, to_json(actor.document), to_db_time(actor.fetched_at)),
            )
