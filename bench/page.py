"""The article page as comments pile up: three articles with 10, 100 and 1,000 threaded
comments (and 1,000 likes each), rows inserted through the store's repositories, each page
then requested over HTTP from `fedipub serve`, one request at a time: p50/p99 of the time to
the last byte, and how it grows with the comments.

Each page is viewed three ways: again and again with nothing changed (a repeat view), each
time right after a new like (the page must be rendered anew), and with `If-None-Match` when
the page carries an ETag (without one that figure is reported as absent).

    python -m bench.page [--sizes 10,100,1000] [--likes 1000] [--requests 200]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvloop

from bench.blogs import BenchBlog, create_blog
from bench.load import Load, build_request, fetch, fetch_async, run_load
from bench.processes import HOST, fedipub_serve, free_port
from bench.results import Row, print_rows
from fedipub.store import open_store
from fedipub.types import (
    Comment,
    CommentState,
    Person,
    Reaction,
    ReactionKind,
    Visibility,
)

TARGET_P50_MS = 50.0
AUTHORS = 60
TOP_LEVEL_SHARE = 0.3  # the rest reply to an earlier comment of the same article
REPLY_HTML = (
    '<p><span class="h-card"><a href="https://social.example/@someone" class="u-url mention">'
    "@<span>someone</span></a></span> Thanks for writing this up: the part about {topic} "
    "matches what we saw in production. :blobcat: See "
    '<a href="https://example.org/notes/{n}" rel="nofollow noopener" target="_blank">'
    "my notes</a>.</p><p>Second paragraph, number {n}.</p>"
)


def slug_for(size: int) -> str:
    return f"page-{size}"


def _person(n: int) -> Person:
    actor = f"https://social{n % 7}.example/users/reader{n}"
    return Person(actor, f"Reader {n} :blobcat:", f"@reader{n}@social{n % 7}.example", None, actor)


async def populate(blog: BenchBlog, sizes: list[int], likes: int) -> None:
    """Comments (threaded, by a few dozen authors) and likes, through the repositories."""
    rng = random.Random(2026)
    start = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    emoji = (("blobcat", "https://social0.example/emoji/blobcat.png"),)
    store = await open_store(blog.settings.database_path)
    try:
        for size in sizes:
            article = await store.articles.get(slug_for(size))
            ids: list[str] = []
            async with store.transaction() as tx:
                for n in range(size):
                    author = _person(rng.randrange(AUTHORS))
                    parent = None if not ids or rng.random() < TOP_LEVEL_SHARE else rng.choice(ids)
                    comment_id = f"{author.id}/statuses/{size}-{n}"
                    when = start + timedelta(minutes=n)
                    comment = Comment(
                        id=comment_id,
                        article_id=article.id,
                        parent_id=parent,
                        author=author,
                        content_html=REPLY_HTML.format(topic="backpressure", n=n),
                        summary=None,
                        sensitive=False,
                        language="en",
                        attachments=(),
                        emojis=(("blobcat", emoji[0][1]),) if n % 3 == 0 else (),
                        url=comment_id,
                        visibility=Visibility.PUBLIC,
                        state=CommentState.SHOWN,
                        is_local=False,
                        replies_collection=None,
                        published=when,
                        updated=None,
                    )
                    await store.comments.insert(tx, comment, when)
                    ids.append(comment_id)
                for n in range(likes):
                    person = _person(1000 + n)
                    await store.reactions.add(
                        tx,
                        Reaction(
                            f"{person.id}/likes/{size}",
                            ReactionKind.LIKE,
                            article.id,
                            person,
                            "",
                            start + timedelta(seconds=n),
                        ),
                    )
    finally:
        await store.close()


@dataclass(frozen=True)
class PageTiming:
    comments: int
    repeated: Load  # the same page again and again, nothing changed
    changed: Load  # each view right after a new like: the page must be rendered anew
    conditional: Load | None  # with If-None-Match; None: the page has no ETag
    size_bytes: int


def _get(blog: BenchBlog, slug: str, extra: dict[str, str] | None = None) -> bytes:
    headers = {"host": blog.settings.domain, "accept": "text/html", **(extra or {})}
    return build_request("GET", f"/posts/{slug}", headers)


async def _views_after_changes(blog: BenchBlog, size: int, requests: int) -> Load:
    """Each GET after a new like is committed (through the store, as the inbox would), so
    that no rendering of the page before can be reused; only the GET is timed."""
    load = Load()
    store = await open_store(blog.settings.database_path)
    request = _get(blog, slug_for(size))
    started = time.perf_counter()
    try:
        article = await store.articles.get(slug_for(size))
        for n in range(requests):
            person = _person(100_000 + n)
            async with store.transaction() as tx:
                await store.reactions.add(
                    tx,
                    Reaction(
                        f"{person.id}/likes/changed-{size}",
                        ReactionKind.LIKE,
                        article.id,
                        person,
                        "",
                        datetime.now(UTC),
                    ),
                )
            sent = time.perf_counter()
            response = await fetch_async(HOST, blog.port, request)
            load.latencies.append(time.perf_counter() - sent)
            load.statuses[response.status] += 1
    finally:
        await store.close()
    load.elapsed = time.perf_counter() - started
    return load


def measure_page(blog: BenchBlog, size: int, requests: int) -> PageTiming:
    slug = slug_for(size)
    first = fetch(HOST, blog.port, _get(blog, slug))
    if first.status != 200:
        raise RuntimeError(f"/posts/{slug} answered {first.status}")
    run_load(HOST, blog.port, [_get(blog, slug)] * 5, concurrency=1)  # warm caches
    repeated = run_load(HOST, blog.port, [_get(blog, slug)] * requests, concurrency=1)
    etag = first.headers.get("etag")
    conditional = None
    if etag is not None:
        again = _get(blog, slug, {"if-none-match": etag})
        conditional = run_load(HOST, blog.port, [again] * requests, concurrency=1)
    changed = uvloop.run(_views_after_changes(blog, size, max(1, requests // 4)))
    return PageTiming(size, repeated, changed, conditional, len(first.body))


@dataclass(frozen=True)
class Measured:
    pages: list[PageTiming]
    rss_mb: float


def _progress(message: str) -> None:
    print(f"[page] {message}", file=sys.stderr, flush=True)


def measure(sizes: list[int], likes: int, requests: int) -> Measured:
    with tempfile.TemporaryDirectory(prefix="fedipub-bench-page-") as tmp:
        root = Path(tmp)
        blog = create_blog(root, free_port(), slugs=tuple(slug_for(size) for size in sizes))
        _progress(f"inserting {sum(sizes)} comments and {likes * len(sizes)} likes")
        uvloop.run(populate(blog, sizes, likes))
        with fedipub_serve(blog.data, blog.port, root / "serve.log") as server:
            pages = []
            for size in sizes:
                _progress(f"{requests} views of the page with {size} comments")
                pages.append(measure_page(blog, size, requests))
            return Measured(pages, server.rss_mb())


def growth_exponent(small: Load, small_n: int, large: Load, large_n: int) -> float:
    """k in time ∝ comments^k between two sizes: 1 is linear, below 1 better."""
    ratio = large.percentile_ms(50) / small.percentile_ms(50)
    return math.log(ratio) / math.log(large_n / small_n)


def rows(m: Measured, sizes: list[int], likes: int, requests: int) -> list[Row]:
    command = (
        f"python -m bench.page --sizes {','.join(map(str, sizes))} --likes {likes}"
        f" --requests {requests}"
    )
    result = []
    largest = max(m.pages, key=lambda p: p.comments)
    smallest = min(m.pages, key=lambda p: p.comments)
    target = f"≤ {TARGET_P50_MS:.0f} ms at {largest.comments}"
    views: list[tuple[str, Callable[[PageTiming], Load]]] = [
        ("repeated view", lambda p: p.repeated),
        ("view after a change (new like)", lambda p: p.changed),
    ]
    for what, pick in views:
        for page in m.pages:
            load = pick(page)
            p50 = load.percentile_ms(50)
            judged = page is largest
            result.append(
                Row(
                    f"page: p50 {what}, {page.comments} comments + {likes} likes",
                    p50,
                    "ms",
                    None,
                    target if judged else "—",
                    p50 <= TARGET_P50_MS and _clean(load) if judged else None,
                    command,
                    f"p99 {load.percentile_ms(99):.1f} ms over {load.answered} views,"
                    f" {page.size_bytes // 1024} KB; statuses {dict(load.statuses)}",
                )
            )
        if len(m.pages) > 1:
            exponent = growth_exponent(
                pick(smallest), smallest.comments, pick(largest), largest.comments
            )
            result.append(
                Row(
                    f"page: growth of the {what} p50 from {smallest.comments} to"
                    f" {largest.comments} comments (k in time ∝ n^k)",
                    exponent,
                    "",
                    None,
                    "≤ 1 (linear or better)",
                    exponent <= 1.0,
                    command,
                )
            )
    conditional = largest.conditional
    if conditional is None:
        result.append(
            Row(
                f"page: If-None-Match view, {largest.comments} comments",
                float("nan"),
                "ms",
                None,
                "—",
                None,
                command,
                "absent: the page carries no ETag",
            )
        )
    else:
        result.append(
            Row(
                f"page: p50 If-None-Match view, {largest.comments} comments",
                conditional.percentile_ms(50),
                "ms",
                largest.repeated.percentile_ms(50),
                "—",
                None,
                command,
                f"statuses {dict(conditional.statuses)}; ceiling = the repeated full view",
            )
        )
    result.append(Row("memory: RSS of fedipub serve after the page views", m.rss_mb, "MB", None,
                      "—", None, command))  # fmt: skip
    return result


def _clean(load: Load) -> bool:
    return load.errors == 0 and set(load.statuses) == {200}


def run(
    sizes: tuple[int, ...] = (10, 100, 1000), likes: int = 1000, requests: int = 200
) -> list[Row]:
    chosen = sorted(sizes)
    return rows(measure(chosen, likes, requests), chosen, likes, requests)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.page", description=__doc__)
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--likes", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    sizes = tuple(int(size) for size in args.sizes.split(","))
    print_rows(run(sizes, args.likes, args.requests))


if __name__ == "__main__":
    main()
