"""Many inboxes on loopback for the fan-out: every (address, port) pair given is a listener, so
with 20 addresses of 127.0.0.0/8 (all loopback) and 50 ports there are 1,000 distinct hosts.

Each POST is answered 202 at once and counted by its Host header and path; a POST without a
Signature and a Digest is counted as unsigned. `GET /counts` on any listener answers the
counts as JSON: `{"received": {"HOST PATH": n}, "unsigned": n}`.

    python -m bench.receivers --addresses 20 --ports 50 --ports-file PORTS.json

The ports are chosen when listening (so none is taken by another program meanwhile), and
written to PORTS.json once every listener is up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from pathlib import Path

import orjson
import uvloop

from bench.framing import Requests, header

_ACCEPTED = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"


def addresses(count: int) -> list[str]:
    """127.0.0.1, 127.0.0.2, …: loopback addresses, one per simulated server name."""
    return [f"127.0.0.{n}" for n in range(1, count + 1)]


class Tally:
    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.unsigned = 0

    def answer(self) -> bytes:
        body = orjson.dumps({"received": self.received, "unsigned": self.unsigned})
        head = f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n"
        return head.encode("ascii") + b"content-type: application/json\r\n\r\n" + body


class _Inbox(Requests):
    def __init__(self, tally: Tally) -> None:
        super().__init__()
        self._tally = tally

    def request(self, head: bytes) -> None:
        # Lean on purpose: these stand in for servers on other machines, but share this one's
        # cores with the server being measured.
        method, path, _ = head[: head.find(b"\r\n")].split(b" ", 2)
        if method == b"get" and path == b"/counts":
            self.answer(self._tally.answer())
            return
        host = (header(head, b"host") or b"").decode("latin-1")
        self._tally.received[f"{host} {path.decode('latin-1')}"] += 1
        if b"\r\nsignature:" not in head or b"\r\ndigest:" not in head:
            self._tally.unsigned += 1
        self.answer(_ACCEPTED)


async def _listen(hosts: list[str], count: int, tally: Tally) -> list[int]:
    """`count` ports, each listening on every one of `hosts`: the first host's port is chosen
    by the system, then bound on the others (on a clash, a new port is tried)."""
    loop = asyncio.get_running_loop()
    ports: list[int] = []
    while len(ports) < count:
        first = await loop.create_server(lambda: _Inbox(tally), hosts[0], 0, backlog=1024)
        port = first.sockets[0].getsockname()[1]
        servers = [first]
        try:
            for host in hosts[1:]:
                servers.append(
                    await loop.create_server(lambda: _Inbox(tally), host, port, backlog=1024)
                )
        except OSError:
            for server in servers:
                server.close()
            continue
        ports.append(port)
    return ports


async def serve(hosts: list[str], count: int, ports_file: Path) -> None:
    ports = await _listen(hosts, count, Tally())
    ready = ports_file.with_suffix(".tmp")
    ready.write_text(json.dumps(ports), encoding="utf-8")
    ready.rename(ports_file)  # the benchmark waits for this file to appear whole
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.receivers")
    parser.add_argument("--addresses", type=int, required=True)
    parser.add_argument("--ports", type=int, required=True, help="how many ports")
    parser.add_argument("--ports-file", type=Path, required=True, help="where to write them")
    args = parser.parse_args()
    uvloop.run(serve(addresses(args.addresses), args.ports, args.ports_file))


if __name__ == "__main__":
    main()
