"""Browser fixtures: Debian's chromium (headless, one per module) and, per test, a blog with
an article and a fediverse peer on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.keys import KeySet
from tests.blogs import publish, write_article
from tests.browser.cdp import CHROMIUM, Browser, Page
from tests.federation.worlds import World, running_world

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SLUG = "field-notes"
ARTICLE = f"""---
title: Field notes from a small server
slug: {SLUG}
summary: What a year of running my own corner of the fediverse taught me.
tags: [fediverse, selfhosting]
language: en
published: 2026-11-20T10:00:00Z
---
A year ago this blog became a fediverse account. Every article is a web page *and* a post that
people follow from Mastodon, Misskey or GoToSocial; their replies come back here as comments.

What surprised me most:

- Replies arrive within seconds, from servers I had never heard of.
- Likes and boosts are a better rating than any counter I ever added.
- A small server is cheap: this one fits in 60 MB of memory.

> The best comment section is the one your readers already use.

Publishing is one command:

```sh
fedipub publish --data ./data notes/field-notes.md
```
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    started = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield started
    started.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page()
    yield opened
    browser.close_page(opened)


@pytest.fixture(scope="module")
def peer_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def world(tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey) -> Iterator[World]:
    with running_world(tmp_path, keyset, peer_key, article=False) as built:
        publish(built.blog, write_article(tmp_path / "src", "field-notes.md", ARTICLE))
        yield built
