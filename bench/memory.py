"""Memory of `fedipub serve` at rest: a new blog with one article, the server started and
asked for its home page once, then left alone for a moment; its resident set is read from
/proc. (Each other benchmark reports the RSS its server ended with.)

    python -m bench.memory
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.blogs import create_blog
from bench.load import build_request, fetch
from bench.processes import HOST, fedipub_serve, free_port
from bench.results import Row, print_rows

TARGET_MB = 80.0
SETTLE_SECONDS = 1.0


def idle_rss_mb() -> float:
    with tempfile.TemporaryDirectory(prefix="fedipub-bench-memory-") as tmp:
        root = Path(tmp)
        blog = create_blog(root, free_port())
        with fedipub_serve(blog.data, blog.port, root / "serve.log") as server:
            home = fetch(HOST, blog.port, build_request("GET", "/", {"host": blog.settings.domain}))
            if home.status != 200:
                raise RuntimeError(f"the home page answered {home.status}")
            time.sleep(SETTLE_SECONDS)
            return server.rss_mb()


def run() -> list[Row]:
    rss = idle_rss_mb()
    return [
        Row(
            "memory: idle RSS of fedipub serve (one worker)",
            rss,
            "MB",
            None,
            f"≤ {TARGET_MB:.0f} MB",
            rss <= TARGET_MB,
            "python -m bench.memory",
        )
    ]


def main() -> None:
    argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__).parse_args()
    print_rows(run())


if __name__ == "__main__":
    main()
