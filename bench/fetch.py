"""What other servers GET most: the actor and an article as AS2, from many connections at
once (500 by default), against `fedipub serve`; and the same load against a bare starlette
endpoint answering a JSON document built in advance (`ceilings.json`, serving the very bytes
of fedipub's actor), and against the sink (the generator's own ceiling).

    python -m bench.fetch [--connections 500] [--requests 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.blogs import BenchBlog, create_blog
from bench.load import Load, build_request, cpu_note, fetch, run_load
from bench.processes import HOST, fedipub_serve, free_port, python, running
from bench.results import Row, print_rows

TARGET_RATIO = 0.8
SLUG = "bench"
AS2 = "application/activity+json"


def _get(blog: BenchBlog, path: str) -> bytes:
    return build_request("GET", path, {"host": blog.settings.domain, "accept": AS2})


@dataclass(frozen=True)
class Measured:
    generator: Load
    ceiling: Load
    actor: Load
    article: Load
    rss_mb: float


def _progress(message: str) -> None:
    print(f"[fetch] {message}", file=sys.stderr, flush=True)


def _checked(load: Load, what: str) -> Load:
    if load.answered == 0:
        raise RuntimeError(f"{what}: nothing answered ({load.first_error})")
    return load


def measure(connections: int, requests: int) -> Measured:
    with tempfile.TemporaryDirectory(prefix="fedipub-bench-fetch-") as tmp:
        root = Path(tmp)
        blog = create_blog(root, free_port(), slugs=(SLUG,))
        actor_requests = [_get(blog, "/users/blog")] * requests
        article_requests = [_get(blog, f"/posts/{SLUG}")] * requests
        with fedipub_serve(blog.data, blog.port, root / "serve.log") as server:
            document = fetch(HOST, blog.port, actor_requests[0]).body
            _progress(f"{requests} actor GETs over {connections} connections")
            run_load(HOST, blog.port, actor_requests[:connections], concurrency=connections)
            actor = _checked(
                run_load(
                    HOST,
                    blog.port,
                    actor_requests,
                    concurrency=connections,
                    server_cpu=server.cpu_seconds,
                ),
                "actor",
            )
            _progress(f"{requests} article GETs over {connections} connections")
            article = _checked(
                run_load(
                    HOST,
                    blog.port,
                    article_requests,
                    concurrency=connections,
                    server_cpu=server.cpu_seconds,
                ),
                "article",
            )
            rss = server.rss_mb()
        (root / "actor.json").write_bytes(document)

        _progress("the ceiling: a bare starlette JSON GET")
        port = free_port()
        argv = python(
            "-m", "bench.ceilings", "json", "--port", str(port),
            "--document", str(root / "actor.json"),
        )  # fmt: skip
        with running(argv, port=port, log=root / "ceiling.log") as bare:
            run_load(HOST, port, actor_requests[:connections], concurrency=connections)
            ceiling = _checked(
                run_load(
                    HOST,
                    port,
                    actor_requests,
                    concurrency=connections,
                    server_cpu=bare.cpu_seconds,
                ),
                "ceiling",
            )

        _progress("load generator against the sink")
        port = free_port()
        with running(
            python("-m", "bench.ceilings", "sink", "--port", str(port)),
            port=port,
            log=root / "sink.log",
        ):
            generator = run_load(HOST, port, actor_requests, concurrency=connections)
    return Measured(generator, ceiling, actor, article, rss)


def _clean(load: Load) -> bool:
    return load.errors == 0 and set(load.statuses) == {200}


def rows(m: Measured, connections: int, requests: int) -> list[Row]:
    command = f"python -m bench.fetch --connections {connections} --requests {requests}"
    result = []
    for what, load in (("actor", m.actor), ("article as AS2", m.article)):
        ratio = load.rate / m.ceiling.rate if m.ceiling.rate else 0.0
        result.append(
            Row(
                f"fetch: {what}, {connections} connections",
                load.rate,
                "req/s",
                m.ceiling.rate,
                f"≥ {TARGET_RATIO} × ceiling",
                ratio >= TARGET_RATIO and _clean(load),
                command,
                f"p99 {load.percentile_ms(99):.0f} ms (ceiling {m.ceiling.percentile_ms(99):.0f}"
                f" ms); statuses {dict(load.statuses)}, {load.errors} errors; CPU"
                f" {cpu_note(load)} (ceiling {cpu_note(m.ceiling)})",
            )
        )
    result.append(
        Row(
            "fetch: load generator's own ceiling (same GETs to a sink)",
            m.generator.rate,
            "req/s",
            None,
            "≥ 2 × the JSON ceiling",
            m.generator.rate >= 2 * m.ceiling.rate,
            command,
        )
    )
    result.append(Row("memory: RSS of fedipub serve after the fetches", m.rss_mb, "MB", None,
                      "—", None, command))  # fmt: skip
    return result


def run(connections: int = 500, requests: int = 10_000) -> list[Row]:
    return rows(measure(connections, requests), connections, requests)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fetch", description=__doc__)
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    print_rows(run(args.connections, args.requests))


if __name__ == "__main__":
    main()
