"""Building test blogs: a data folder with settings and keys, and articles published into it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fedipub.cli import main
from fedipub.config import (
    SETTINGS_FILE,
    Settings,
    load_settings,
    settings_from_mapping,
    settings_to_toml,
)
from fedipub.keys import KeySet, load_keyset, save_keyset
from fedipub.services import build_services
from fedipub.store import open_store

FIXTURES = Path(__file__).parent / "fixtures"

ARTICLE = """---
title: Hello <World> & friends
slug: hello-world
summary: A first post.
tags: [python, fediverse]
language: en
published: 2026-11-20T10:00:00Z
images:
  - {url: /media/cat.jpg, alt: A sleeping cat, width: 800, height: 600}
---
Some *Markdown* with a [link](https://example.org/).

![A diagram](https://cdn.example/diagram.png)

| a | b |
|---|---|
| 1 | 2 |
"""


def make_blog(data: Path, keys: KeySet, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "domain": "blog.example",
        "username": "blog",
        "display_name": "Test Blog",
        "summary": "A blog for tests.",
        "created": "2026-11-01T00:00:00+00:00",
        **overrides,
    }
    settings = settings_from_mapping(data, values)
    data.mkdir(parents=True, exist_ok=True)
    save_keyset(keys, settings.key_folder)
    (data / SETTINGS_FILE).write_text(settings_to_toml(settings), encoding="utf-8")
    return load_settings(data, {})


def write_article(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def publish(blog: Settings, path: Path) -> None:
    assert main(["publish", "--data", str(blog.data_dir), str(path)]) == 0


def drain_deliveries(blog: Settings) -> int:
    """Deliver everything queued now, from this process (the blog's own worker is off in
    tests); returns how many deliveries were attempted."""

    async def drain() -> int:
        store = await open_store(blog.database_path)
        services = build_services(blog, store, load_keyset(blog.key_folder))
        try:
            worker = services.delivery_worker()
            total = 0
            while attempted := await worker.run_once():
                total += attempted
            return total
        finally:
            await services.aclose()
            await store.close()

    return asyncio.run(drain())
