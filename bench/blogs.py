"""Throwaway blogs for the benchmarks, made as an admin makes them: `fedipub init` and
`fedipub publish`, in a temporary folder."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from fedipub.cli import main
from fedipub.config import Settings, load_settings

ARTICLE = (
    """---
title: Benchmarking a federated blog
slug: {slug}
summary: What it costs to take replies, likes and fetches from the fediverse.
tags: [python, fediverse, performance]
language: en
published: 2026-11-20T10:00:00Z
---
A paragraph of *Markdown* with a [link](https://example.org/) and `code`.

## A heading

- one
- two
- three

> A quotation, to have a little of everything.

"""
    + "More text for a realistic body. " * 40
)


@dataclass(frozen=True)
class BenchBlog:
    settings: Settings
    port: int

    @property
    def data(self) -> Path:
        return self.settings.data_dir

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def article_url(self, slug: str) -> str:
        return f"{self.base_url}/posts/{slug}"


def _cli(*argv: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(argv))
    if code != 0:
        raise RuntimeError(f"fedipub {' '.join(argv)} failed with status {code}")


def create_blog(root: Path, port: int, *, slugs: tuple[str, ...] = ("bench",)) -> BenchBlog:
    """A blog at http://127.0.0.1:PORT with one published article per slug."""
    data = root / "blog"
    _cli("init", "--data", str(data), "--domain", f"127.0.0.1:{port}", "--scheme", "http")
    sources = root / "articles"
    sources.mkdir()
    for slug in slugs:
        path = sources / f"{slug}.md"
        path.write_text(ARTICLE.format(slug=slug), encoding="utf-8")
        _cli("publish", "--data", str(data), str(path))
    return BenchBlog(load_settings(data, {"FEDIPUB_ALLOW_PRIVATE_ADDRESSES": "1"}), port)
