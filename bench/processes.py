"""Servers under test as subprocesses: `fedipub serve`, and the bench's own ceilings, each
started through `launch.py` (so it dies with the benchmark), waited for, measured (RSS from
/proc) and stopped by its own pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"
REPOSITORY = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
# For `fedipub serve` under load from one loopback address: the per-host inbox rate limit
# (20/s, bursts of 200) would otherwise refuse most of a benchmark's requests.
SERVE_ENVIRONMENT = {
    "FEDIPUB_ALLOW_PRIVATE_ADDRESSES": "1",
    "FEDIPUB_INBOX_RATE": "1000000",
    "FEDIPUB_INBOX_BURST": "1000000",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise ValueError(f"no {field} for {pid}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used so far, all its threads together."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory now, in MiB."""
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int) -> float:
    """The most resident memory the process ever had, in MiB."""
    return _status_kb(pid, "VmHWM") / 1024


class Child:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until the port accepts connections."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start:\n{self.log_tail()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start:\n{self.log_tail()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running(
    argv: list[str],
    *,
    port: int,
    log: Path,
    env: Mapping[str, str] | None = None,
    wait: bool = True,
) -> Iterator[Child]:
    """Run `argv` (a Python module or console script of this venv) until the block ends."""
    environment = {**os.environ, **(env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.launch", *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=REPOSITORY,
        )
    child = Child(process, port, log)
    try:
        if wait:
            child.wait_ready()
        yield child
    finally:
        child.stop()


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


@contextmanager
def fedipub_serve(data: Path, port: int, log: Path) -> Iterator[Child]:
    """`fedipub serve --data DATA --port PORT`, one worker, as an admin would run it."""
    argv = python("-m", "fedipub", "serve", "--data", str(data), "--port", str(port))
    with running(argv, port=port, log=log, env=SERVE_ENVIRONMENT) as child:
        yield child
