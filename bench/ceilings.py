"""The bare servers fedipub is measured against, each run as `python -m bench.ceilings KIND
--port PORT …` in a process of its own, on the same uvicorn (uvloop, httptools, one worker)
that `fedipub serve` uses, but bare: no middleware and no access log (`fedipub serve` logs
every request at INFO, as it is deployed, and that is part of what is measured):

- `sink`: answers every request at once without reading it (asyncio protocol, no HTTP
  framework): the load generator's own ceiling.
- `inbox`: a bare starlette endpoint that does only what accepting a signed activity must:
  parse the JSON, check the digest, verify the RSA signature (keys known in advance), and
  insert the activity, committed in batches (a group commit), before answering 202.
- `json`: a bare starlette endpoint answering a GET with a JSON document built in advance.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import orjson
import uvicorn
import uvloop
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.framing import Requests

HOST = "127.0.0.1"
ACTIVITY_JSON = "application/activity+json"
_SIGNATURE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_SINK_ANSWER = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"


# --- sink ----------------------------------------------------------------------------------


class _Sink(Requests):
    """Answers each request at once."""

    def request(self, head: bytes) -> None:
        self.answer(_SINK_ANSWER)


async def _serve_sink(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_Sink, HOST, port, backlog=2048)
    async with server:
        await server.serve_forever()


# --- inbox ---------------------------------------------------------------------------------


class GroupCommit:
    """Inserts from concurrent requests committed together: one transaction per batch, each
    request answered once its row is committed."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._pending: list[tuple[tuple[str, str, bytes], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def insert(self, row: tuple[str, str, bytes]) -> None:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        self._wake.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                await self._db.executemany(
                    "INSERT OR IGNORE INTO activities (id, actor, body) VALUES (?, ?, ?)",
                    [row for row, _ in batch],
                )
                await self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for _, future in batch:
                future.set_result(None)

    async def close(self) -> None:
        self._task.cancel()


def inbox_app(keys: dict[str, RSAPublicKey], database: Path) -> Starlette:
    state: dict[str, GroupCommit] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = await aiosqlite.connect(database, isolation_level=None)
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute(
            "CREATE TABLE IF NOT EXISTS activities (id TEXT PRIMARY KEY, actor TEXT, body BLOB)"
        )
        state["group"] = GroupCommit(db)
        yield
        await state["group"].close()
        await db.close()

    async def inbox(request: Request) -> Response:
        body = await request.body()
        document = orjson.loads(body)
        headers = request.headers
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        if headers.get("digest") != f"SHA-256={digest}":
            return Response(status_code=401)
        params = dict(_SIGNATURE_PARAM.findall(headers.get("signature", "")))
        lines = [
            f"(request-target): post {request.url.path}"
            if name == "(request-target)"
            else f"{name}: {headers[name]}"
            for name in params["headers"].split()
        ]
        keys[params["keyId"]].verify(
            base64.b64decode(params["signature"]),
            "\n".join(lines).encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
        await state["group"].insert((document["id"], document["actor"], body))
        return Response(status_code=202)

    return Starlette(routes=[Route("/{path:path}", inbox, methods=["POST"])], lifespan=lifespan)


def _load_keys(path: Path) -> dict[str, RSAPublicKey]:
    keys: dict[str, RSAPublicKey] = {}
    for key_id, pem in orjson.loads(path.read_bytes()).items():
        key = load_pem_public_key(pem.encode("ascii"))
        assert isinstance(key, RSAPublicKey)
        keys[key_id] = key
    return keys


# --- json ----------------------------------------------------------------------------------


def json_app(document: bytes) -> Starlette:
    async def get(request: Request) -> Response:
        return Response(document, media_type=ACTIVITY_JSON)

    return Starlette(routes=[Route("/{path:path}", get)])


# --- running -------------------------------------------------------------------------------


def _uvicorn(app: Starlette, port: int) -> None:
    uvicorn.run(
        app,
        host=HOST,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ceilings")
    parser.add_argument("kind", choices=("sink", "inbox", "json"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", type=Path, help="inbox: JSON {keyId: public key PEM}")
    parser.add_argument("--database", type=Path, help="inbox: the SQLite file")
    parser.add_argument("--document", type=Path, help="json: the document served")
    args = parser.parse_args()
    if args.kind == "sink":
        uvloop.run(_serve_sink(args.port))
    elif args.kind == "inbox":
        _uvicorn(inbox_app(_load_keys(args.keys), args.database), args.port)
    else:
        _uvicorn(json_app(args.document.read_bytes()), args.port)


if __name__ == "__main__":
    main()
