from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fedipub.article_source import (
    check_slug,
    parse_article_source,
    read_article_file,
    render_markdown,
    slugify,
)
from fedipub.errors import SourceError
from tests.blogs import ARTICLE


def test_a_full_front_matter_is_read_into_an_article_source() -> None:
    source = parse_article_source(ARTICLE)
    assert source.slug == "hello-world"
    assert source.title == "Hello <World> & friends"
    assert source.summary == "A first post."
    assert source.tags == ("python", "fediverse")
    assert source.language == "en"
    assert source.published == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert source.content_warning is None
    # The listed image first, then the inline one found in the body.
    assert [i.url for i in source.images] == ["/media/cat.jpg", "https://cdn.example/diagram.png"]
    assert source.images[0].alt == "A sleeping cat"
    assert (source.images[0].width, source.images[0].height) == (800, 600)
    assert source.images[1].alt == "A diagram"
    assert source.body_markdown.startswith("Some *Markdown*")


def test_slug_defaults_to_the_file_name_then_the_title(tmp_path: Path) -> None:
    path = tmp_path / "My Trip.md"
    path.write_text("---\ntitle: Élan vital!\n---\nbody\n", encoding="utf-8")
    assert read_article_file(path).slug == "my-trip"
    assert parse_article_source("---\ntitle: Élan vital!\n---\nx").slug == "elan-vital"


def test_content_warning_from_sensitive_flag() -> None:
    source = parse_article_source("---\ntitle: T\nsensitive: true\n---\nx")
    assert source.content_warning == "Sensitive content"
    source = parse_article_source("---\ntitle: T\ncontent_warning: Spoilers\n---\nx")
    assert source.content_warning == "Spoilers"


def test_tags_as_comma_text_are_deduplicated_case_insensitively() -> None:
    source = parse_article_source("---\ntitle: T\ntags: 'a, #B, b'\n---\nx")
    assert source.tags == ("a", "B")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "front matter block"),
        ("---\ntitle: [unclosed\n---\n", "not valid YAML"),
        ("---\n- a list\n---\n", "must be a mapping"),
        ("---\nsummary: x\n---\n", "needs a title"),
        ("---\ntitle: T\nslug: Bad Slug\n---\n", "slug"),
        ("---\ntitle: T\ncolour: red\n---\n", "unknown front matter key(s): colour"),
        ("---\ntitle: T\ntags: [has space]\n---\n", "tag"),
        ("---\ntitle: T\npublished: yesterday\n---\n", "ISO 8601"),
        ("---\ntitle: T\nlanguage: english!\n---\n", "language"),
        ("---\ntitle: T\nimages: [{alt: x}]\n---\n", "needs a url"),
        ("---\ntitle: T\nimages: [{url: a.jpg, width: -3}]\n---\n", "positive whole number"),
        ("---\ntitle: {a: b}\n---\n", "must be text"),
    ],
)
def test_bad_sources_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_article_source(text)


def test_unreadable_files_are_source_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        read_article_file(tmp_path / "missing.md")
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SourceError, match="UTF-8"):
        read_article_file(binary)


def test_slugs() -> None:
    assert slugify("  Hello, World -- again ") == "hello-world-again"
    assert check_slug("a-1") == "a-1"
    for bad in ("-a", "a--b", "A", "a_b", "", "x" * 101):
        with pytest.raises(SourceError):
            check_slug(bad)


def test_markdown_renders_commonmark_tables_and_strikethrough() -> None:
    html = render_markdown("**b** ~~s~~\n\n| a |\n|---|\n| 1 |\n")
    assert "<strong>b</strong>" in html
    assert "<s>s</s>" in html
    assert "<table>" in html
