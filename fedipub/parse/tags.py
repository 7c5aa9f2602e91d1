"""The `tag` array of posts and actors: custom emojis, mentions and hashtags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fedipub.parse.values import as_list, http_url, image_url, text_of

_SHORTCODE = re.compile(r"[A-Za-z0-9_]{1,100}")
# Word characters, plus the middle dot and ZWNJ that Mastodon's HASHTAG_NAME_RE allows for
# Catalan and Persian tags.
_HASHTAG = re.compile(r"\w[\w·\u200c]{0,99}")
_MENTION_NAME_LENGTH = 300


@dataclass(frozen=True)
class Emoji:
    shortcode: str  # ":name:"
    url: str


@dataclass(frozen=True)
class Mention:
    href: str
    name: str  # "@user@host" as the author wrote it; "" when the peer sends none (Smithereen)


def _tags(value: Any, kind: str) -> list[dict[str, Any]]:
    return [tag for tag in as_list(value) if isinstance(tag, dict) and tag.get("type") == kind]


def parse_emojis(value: Any) -> tuple[Emoji, ...]:
    """Custom emojis: a ":shortcode:" of letters, digits and underscores and an http(s) image;
    any other is dropped, since its shortcode is pasted into names and its URL into <img>."""
    found: dict[str, Emoji] = {}
    for tag in _tags(value, "Emoji"):
        name = tag.get("name")
        if not isinstance(name, str):
            continue
        shortcode = name.removeprefix(":").removesuffix(":")
        url = image_url(tag.get("icon"))
        if url is not None and _SHORTCODE.fullmatch(shortcode):
            found.setdefault(shortcode, Emoji(f":{shortcode}:", url))
    return tuple(found.values())


def parse_mentions(value: Any) -> tuple[Mention, ...]:
    return tuple(
        Mention(href, text_of(tag.get("name"), _MENTION_NAME_LENGTH))
        for tag in _tags(value, "Mention")
        if (href := http_url(tag.get("href"))) is not None
    )


def parse_hashtags(value: Any) -> tuple[str, ...]:
    """Hashtag names without their "#", each once."""
    found: dict[str, None] = {}
    for tag in _tags(value, "Hashtag"):
        name = tag.get("name")
        if isinstance(name, str) and _HASHTAG.fullmatch(name := name.removeprefix("#")):
            found[name] = None
    return tuple(found)
