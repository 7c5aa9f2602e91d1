"""Article files: YAML front matter + Markdown, parsed into an `ArticleSource`, and rendered.

---
title: Hello, fediverse
slug: hello-fediverse           # default: the file name
summary: One line for previews  # never federated as `summary` (Mastodon shows that as a CW)
tags: [python, fediverse]
language: en
published: 2026-11-29T10:00:00Z
content_warning: Spoilers        # or `sensitive: true`
images:
  - {url: /media/cat.jpg, alt: A cat, width: 800, height: 600, media_type: image/jpeg}
---
The body, in CommonMark (tables and strikethrough too).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from fedipub.errors import SourceError
from fedipub.types import ArticleSource, Image

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 100
_TAG = re.compile(r"^[\w]{1,64}$", re.UNICODE)
_LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_INLINE_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_KNOWN_KEYS = frozenset(
    {
        "title", "slug", "summary", "tags", "language", "published", "date",
        "content_warning", "sensitive", "images",
    }
)  # fmt: skip


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_SLUG_LENGTH]


def check_slug(slug: str) -> str:
    if not SLUG.match(slug) or len(slug) > MAX_SLUG_LENGTH:
        raise SourceError(f"slug {slug!r} must be lower-case letters, digits and single dashes")
    return slug


def _text(meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise SourceError(f"front matter {key!r} must be text")
    text = str(value).strip()
    return text or None


def _tags(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise SourceError("front matter 'tags' must be a list or comma-separated text")
    tags: list[str] = []
    for item in items:
        tag = str(item).strip().lstrip("#")
        if not _TAG.match(tag):
            raise SourceError(f"tag {tag!r} must be letters, digits or _ (at most 64)")
        if tag.lower() not in (t.lower() for t in tags):
            tags.append(tag)
    return tuple(tags)


def _published(raw: Any) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime(raw.year, raw.month, raw.day)
    else:
        try:
            value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise SourceError(f"published date {raw!r} is not an ISO 8601 date") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _optional_int(item: Mapping[str, Any], key: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or value <= 0:
        raise SourceError(f"image {key} must be a positive whole number")
    return value


def _images(raw: Any, body: str) -> tuple[Image, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise SourceError("front matter 'images' must be a list")
    images: list[Image] = []
    for item in raw:
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise SourceError("each image needs a url")
        images.append(
            Image(
                url=item["url"],
                alt=str(item.get("alt") or ""),
                media_type=_text(item, "media_type"),
                width=_optional_int(item, "width"),
                height=_optional_int(item, "height"),
            )
        )
    listed = {image.url for image in images}
    for alt, url in _INLINE_IMAGE.findall(body):
        if url not in listed:
            listed.add(url)
            images.append(Image(url=url, alt=alt))
    return tuple(images)


def parse_article_source(text: str, *, default_slug: str | None = None) -> ArticleSource:
    """Validate an article file's text; raises SourceError naming what is wrong."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise SourceError("the file does not start with a '---' front matter block")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise SourceError(f"front matter is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(meta, dict):
        raise SourceError("front matter must be a mapping of keys to values")
    unknown = sorted(set(map(str, meta)) - _KNOWN_KEYS)
    if unknown:
        raise SourceError(f"unknown front matter key(s): {', '.join(unknown)}")
    body = text[match.end() :].strip("\n")
    title = _text(meta, "title")
    if title is None:
        raise SourceError("front matter needs a title")
    slug = _text(meta, "slug") or default_slug or slugify(title)
    language = _text(meta, "language")
    if language is not None and not _LANGUAGE.match(language):
        raise SourceError(f"language {language!r} is not a language tag like 'en' or 'pt-BR'")
    warning = _text(meta, "content_warning")
    if warning is None and meta.get("sensitive") is True:
        warning = "Sensitive content"
    return ArticleSource(
        slug=check_slug(slug),
        title=title,
        body_markdown=body,
        summary=_text(meta, "summary"),
        tags=_tags(meta.get("tags")),
        language=language,
        published=_published(meta.get("published", meta.get("date"))),
        content_warning=warning,
        images=_images(meta.get("images"), body),
    )


def read_article_file(path: Path) -> ArticleSource:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise SourceError(f"{path}: cannot read it as UTF-8 text ({exc})") from None
    try:
        return parse_article_source(text, default_slug=slugify(path.stem))
    except SourceError as exc:
        raise SourceError(f"{path}: {exc}") from None


def render_markdown(markdown: str) -> str:
    """The article body as HTML. The author is trusted: raw HTML in the Markdown is kept here;
    what is federated is reduced to Mastodon's subset separately."""
    parser = MarkdownIt("commonmark", {"html": True, "typographer": True}).enable(
        ["table", "strikethrough"]
    )
    return str(parser.render(markdown))
