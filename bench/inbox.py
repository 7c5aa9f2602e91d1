"""Signed replies into the inbox: N Create{Note} replies to an article, from several actors on
loopback peers, posted at a fixed concurrency to `fedipub serve`, and the same requests to a
bare verify-and-insert app (`ceilings.inbox`) and to a sink (the generator's own ceiling).

Every request is signed before the clock starts. Each actor's key is fetched by fedipub once,
in a warm-up (one reply per actor, one at a time); the run then finds them cached. Afterwards
every reply must be a comment: the article's `replies` collection counts them. All peers are
on 127.0.0.1, one host to the per-host inbox rate limit, so the benchmark raises that limit
(`processes.SERVE_ENVIRONMENT`); everything else is `fedipub serve` as configured by default.
The servers' CPU use during each run is reported (100% is one core busy all along).

    python -m bench.inbox [--n 3000] [--concurrency 64] [--actors 8]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.blogs import BenchBlog, create_blog
from bench.load import Load, build_request, cpu_note, fetch, run_load
from bench.processes import HOST, fedipub_serve, free_port, python, running
from bench.results import Row, print_rows
from fedipub.keys import public_pem
from fedipub.vocab import AS_PUBLIC
from tests.peers import Peer, running_peer, signed_headers

SLUG = "bench"
INBOX = "/users/blog/inbox"
TARGET_RATIO = 0.8
PEERS = 4


@dataclass(frozen=True)
class Actor:
    peer: Peer
    id: str
    key_id: str
    key: rsa.RSAPrivateKey


def _actors(peers: list[Peer], count: int) -> list[Actor]:
    actors = []
    for index in range(count):
        peer = peers[index % len(peers)]
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        document = peer.add_actor(f"user{index}", key)
        actors.append(Actor(peer, document["id"], document["publicKey"]["id"], key))
    return actors


def _reply(actor: Actor, number: int, article_url: str, blog_actor: str) -> dict[str, Any]:
    note_id = actor.peer.url(f"/statuses/{number}")
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": actor.peer.url(f"/activities/{number}"),
        "type": "Create",
        "actor": actor.id,
        "published": "2026-11-29T10:00:00Z",
        "to": [AS_PUBLIC],
        "cc": [f"{actor.id}/followers", blog_actor],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": actor.id,
            "inReplyTo": article_url,
            "content": f"<p>Reply number {number}: a thoughtful <em>comment</em> on the"
            ' article, with a <a href="https://example.org/">link</a>.</p>',
            "published": "2026-11-29T10:00:00Z",
            "url": note_id,
            "to": [AS_PUBLIC],
            "cc": [f"{actor.id}/followers", blog_actor],
        },
    }


def signed_replies(blog: BenchBlog, actors: list[Actor], count: int, start: int) -> list[bytes]:
    """`count` signed POSTs to the blog's inbox, the actors taking turns."""
    url = f"{blog.base_url}{INBOX}"
    blog_actor = f"{blog.base_url}/users/blog"
    requests = []
    for number, actor in zip(range(start, start + count), itertools.cycle(actors), strict=False):
        body = orjson.dumps(_reply(actor, number, blog.article_url(SLUG), blog_actor))
        headers = signed_headers("POST", url, body, actor.key, actor.key_id)
        requests.append(build_request("POST", INBOX, headers, body))
    return requests


def count_replies(blog: BenchBlog) -> int:
    request = build_request(
        "GET",
        f"/posts/{SLUG}/replies",
        {"host": blog.settings.domain, "accept": "application/activity+json"},
    )
    response = fetch(HOST, blog.port, request)
    total: int = orjson.loads(response.body)["totalItems"]
    return total


def _progress(message: str) -> None:
    print(f"[inbox] {message}", file=sys.stderr, flush=True)


def _keys_file(path: Path, actors: list[Actor]) -> Path:
    path.write_bytes(orjson.dumps({a.key_id: public_pem(a.key.public_key()) for a in actors}))
    return path


@dataclass(frozen=True)
class Measured:
    generator: Load
    ceiling: Load
    fedipub: Load
    expected: int
    visible: int
    rss_mb: float


def measure(n: int, concurrency: int, actor_count: int) -> Measured:
    with tempfile.TemporaryDirectory(prefix="fedipub-bench-inbox-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        blog = create_blog(root, free_port(), slugs=(SLUG,))
        peers = [stack.enter_context(running_peer()) for _ in range(PEERS)]
        actors = _actors(peers, actor_count)
        _progress(f"signing {len(actors) + n} requests")
        warmup = signed_replies(blog, actors, len(actors), 0)
        requests = signed_replies(blog, actors, n, len(actors))

        _progress("load generator against the sink")
        port = free_port()
        with running(
            python("-m", "bench.ceilings", "sink", "--port", str(port)),
            port=port,
            log=root / "sink.log",
        ):
            generator = run_load(HOST, port, requests, concurrency=concurrency)

        _progress("the ceiling: bare verify + group-committed insert")
        port = free_port()
        keys = _keys_file(root / "keys.json", actors)
        argv = python(
            "-m",
            "bench.ceilings",
            "inbox",
            "--port",
            str(port),
            "--keys",
            str(keys),
            "--database",
            str(root / "ceiling.sqlite3"),
        )
        with running(argv, port=port, log=root / "ceiling.log") as bare:
            run_load(HOST, port, warmup, concurrency=1)
            ceiling = run_load(
                HOST, port, requests, concurrency=concurrency, server_cpu=bare.cpu_seconds
            )

        _progress("fedipub serve")
        with fedipub_serve(blog.data, blog.port, root / "serve.log") as server:
            warm = run_load(HOST, blog.port, warmup, concurrency=1)
            if warm.errors or set(warm.statuses) != {202}:
                raise RuntimeError(
                    f"warm-up failed: {warm.statuses} {warm.first_error}\n{server.log_tail()}"
                )
            result = run_load(
                HOST, blog.port, requests, concurrency=concurrency, server_cpu=server.cpu_seconds
            )
            visible = count_replies(blog)
            rss = server.rss_mb()
        return Measured(generator, ceiling, result, len(warmup) + n, visible, rss)


def rows(m: Measured, n: int, concurrency: int, actors: int) -> list[Row]:
    command = f"python -m bench.inbox --n {n} --concurrency {concurrency} --actors {actors}"
    fedipub, ceiling = m.fedipub, m.ceiling
    clean = fedipub.errors == 0 and set(fedipub.statuses) == {202} and m.visible == m.expected
    ratio = fedipub.rate / ceiling.rate if ceiling.rate else 0.0
    return [
        Row(
            f"inbox: accepted/s ({n} signed replies, concurrency {concurrency})",
            fedipub.rate,
            "req/s",
            ceiling.rate,
            f"≥ {TARGET_RATIO} × ceiling, all visible, 0 errors",
            ratio >= TARGET_RATIO and clean,
            command,
            f"{m.visible}/{m.expected} replies visible; statuses {dict(fedipub.statuses)},"
            f" {fedipub.errors} errors{' (' + fedipub.first_error + ')' if fedipub.errors else ''};"
            f" CPU {cpu_note(fedipub)} (ceiling {cpu_note(ceiling)}; 100% = one core)",
        ),
        Row(
            "inbox: p50 latency",
            fedipub.percentile_ms(50),
            "ms",
            ceiling.percentile_ms(50),
            "—",
            None,
            command,
        ),
        Row(
            "inbox: p99 latency",
            fedipub.percentile_ms(99),
            "ms",
            ceiling.percentile_ms(99),
            "—",
            None,
            command,
        ),
        Row(
            "inbox: load generator's own ceiling (same requests to a sink)",
            m.generator.rate,
            "req/s",
            None,
            "≥ 2 × the inbox ceiling",
            m.generator.rate >= 2 * ceiling.rate,
            command,
        ),
        Row(
            "memory: RSS of fedipub serve after the inbox run",
            m.rss_mb,
            "MB",
            None,
            "—",
            None,
            command,
        ),
    ]


def run(n: int = 3000, concurrency: int = 64, actors: int = 8) -> list[Row]:
    return rows(measure(n, concurrency, actors), n, concurrency, actors)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inbox", description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--actors", type=int, default=8)
    args = parser.parse_args()
    print_rows(run(args.n, args.concurrency, args.actors))


if __name__ == "__main__":
    main()
