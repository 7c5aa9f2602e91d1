"""`fedipub init` and `fedipub serve` as real processes, the actor fetched over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port

FEDIPUB = [sys.executable, "-m", "fedipub"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FEDIPUB, *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    data = tmp_path / "data"
    port = free_port()
    init = _run("init", "--data", str(data), "--domain", f"127.0.0.1:{port}", "--scheme", "http")
    assert init.returncode == 0, init.stderr
    process = subprocess.Popen(
        [*FEDIPUB, "serve", "--data", str(data), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "FEDIPUB_ALLOW_PRIVATE_ADDRESSES": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/.well-known/nodeinfo", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"fedipub serve did not start: {output}")
            time.sleep(0.1)
    try:
        yield base, data
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_actor_and_published_article_over_real_http(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    base, data = server
    article = tmp_path / "over-the-wire.md"
    article.write_text("---\ntitle: Over the wire\n---\nHello.", encoding="utf-8")
    published = _run("publish", "--data", str(data), str(article))
    assert published.returncode == 0, published.stderr
    url = published.stdout.strip().splitlines()[-1]
    assert url == f"{base}/posts/over-the-wire"

    webfinger = httpx.get(
        f"{base}/.well-known/webfinger", params={"resource": f"acct:blog@{base[7:]}"}
    ).json()
    actor_url = next(link["href"] for link in webfinger["links"] if link["rel"] == "self")
    actor = httpx.get(actor_url, headers={"Accept": "application/activity+json"}).json()
    assert actor["id"] == actor_url == f"{base}/users/blog"
    assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]
    note = httpx.get(url, headers={"Accept": "application/activity+json"}).json()
    assert note["attributedTo"] == actor_url
    assert "Over the wire" in httpx.get(url).text


@pytest.mark.slow
def test_serve_on_a_busy_port_is_one_line(server: tuple[str, Path]) -> None:
    base, data = server
    result = _run("serve", "--data", str(data), "--port", base.rsplit(":", 1)[1])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"fedipub: error: cannot listen on 127.0.0.1:{base.rsplit(':', 1)[1]}: the port is in use"
    ]
