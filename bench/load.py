"""The load generator: HTTP/1.1 on keep-alive connections, every request built (and signed)
before the clock starts, so that during the run the generator only writes bytes and reads
responses.

Python is the generator too, and on two cores it competes with the server for CPU: every
benchmark also drives the same requests into `ceilings.sink` (a server that answers without
looking), and reports that rate as the generator's own ceiling.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import uvloop

# No run may outlive this, whatever it was asked to send.
MAX_SECONDS = 120.0


def build_request(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes = b"",
) -> bytes:
    """The request's bytes as sent: `headers` must include `host`."""
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Load:
    """What a run got back: statuses, latencies (seconds) of the answered requests, the
    requests that got no answer, and the wall time of the whole run."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    first_error: str = ""
    server_cpu: float | None = None  # the server's CPU seconds during the run, when measured

    @property
    def answered(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.answered / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def server_cpu_percent(self) -> float | None:
        """The server's CPU use during the run: 100 is one core busy all along."""
        if self.server_cpu is None or self.elapsed <= 0:
            return None
        return 100 * self.server_cpu / self.elapsed

    def percentile_ms(self, percent: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, round(percent / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1] * 1000


def cpu_note(load: Load) -> str:
    """The server's CPU use during `load`, as a table note shows it."""
    percent = load.server_cpu_percent
    return "?" if percent is None else f"{percent:.0f}%"


async def read_response(reader: asyncio.StreamReader) -> Response:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            chunks.append(chunk[:-2])
        body = b"".join(chunks)
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body = await reader.read()
    return Response(status, headers, body)


async def _worker(
    host: str, port: int, requests: Sequence[bytes], position: list[int], load: Load
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while position[0] < len(requests):
            payload = requests[position[0]]
            position[0] += 1
            started = time.perf_counter()
            try:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(payload)
                response = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                load.errors += 1
                load.first_error = load.first_error or f"{type(exc).__name__}: {exc}"
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            load.latencies.append(time.perf_counter() - started)
            load.statuses[response.status] += 1
            if response.headers.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def send_all(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    concurrency: int,
    max_seconds: float = MAX_SECONDS,
) -> Load:
    """Send `requests` in order over `concurrency` connections, each sending its next request
    as soon as the previous one is answered. Requests not answered within `max_seconds` are
    errors."""
    load = Load()
    position = [0]
    started = time.perf_counter()
    workers = [
        asyncio.create_task(_worker(host, port, requests, position, load))
        for _ in range(min(concurrency, len(requests)))
    ]
    done, pending = await asyncio.wait(workers, timeout=max_seconds)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            load.first_error = load.first_error or repr(task.exception())
    load.elapsed = time.perf_counter() - started
    load.errors += len(requests) - load.answered - load.errors
    if pending:
        load.first_error = load.first_error or f"not done within {max_seconds:.0f} s"
    return load


def run_load(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    concurrency: int,
    max_seconds: float = MAX_SECONDS,
    server_cpu: Callable[[], float] | None = None,
) -> Load:
    """`send_all` on a uvloop event loop of its own (the generator's fastest setting);
    `server_cpu` reads the server's CPU seconds so far, to tell its CPU use during the run."""
    before = server_cpu() if server_cpu is not None else 0.0
    load = uvloop.run(
        send_all(host, port, requests, concurrency=concurrency, max_seconds=max_seconds)
    )
    if server_cpu is not None:
        load.server_cpu = server_cpu() - before
    return load


async def fetch_async(host: str, port: int, request: bytes) -> Response:
    """One request on a connection of its own, answer read whole."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        return await asyncio.wait_for(read_response(reader), 30)
    finally:
        writer.close()


def fetch(host: str, port: int, request: bytes) -> Response:
    """`fetch_async` on an event loop of its own."""
    return uvloop.run(fetch_async(host, port, request))
