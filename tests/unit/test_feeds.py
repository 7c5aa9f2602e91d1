"""The Atom and RSS feeds, read back with an XML parser as a feed reader would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from fedipub.config import Settings
from fedipub.feeds import build_atom, build_rss
from fedipub.types import Article, Page
from fedipub.urls import Urls

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
FIRST = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SECOND = datetime(2026, 11, 20, 18, 45, tzinfo=UTC)
EDITED = datetime(2026, 11, 25, 7, 15, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        domain="blog.example",
        display_name="Ann's notes",
        summary="Notes on small software.",
        icon_url="/media/ann.png",
    )


@pytest.fixture
def urls(settings: Settings) -> Urls:
    return Urls(settings.base_url, settings.username)


def make_article(**changes: object) -> Article:
    article = Article(
        id=1,
        slug="second",
        title="The second post",
        body_markdown="",
        body_html='<p>Hello <em>there</em>.</p>\n<p><img src="/media/cat.jpg" alt="A cat"></p>',
        summary="A short one.",
        tags=("python", "Fediverse"),
        language=None,
        content_warning=None,
        images=(),
        published=SECOND,
        updated=EDITED,
        source_hash="h",
    )
    return replace(article, **changes)  # type: ignore[arg-type]


def articles() -> list[Article]:
    newer = make_article()
    older = make_article(
        id=2,
        slug="first",
        title="The first post",
        summary=None,
        tags=(),
        published=FIRST,
        updated=None,
    )
    return [newer, older]


def text(element: ET.Element, path: str) -> str:
    found = element.find(path, NS)
    assert found is not None, path
    return found.text or ""


# --- Atom ----------------------------------------------------------------------------------


def test_atom_feed_names_the_blog_and_links_home_and_itself(settings: Settings, urls: Urls) -> None:
    feed = ET.fromstring(build_atom(settings, urls, articles()))
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert text(feed, "atom:title") == "Ann's notes"
    assert text(feed, "atom:subtitle") == "Notes on small software."
    assert text(feed, "atom:id") == urls.home
    links = {link.get("rel"): link.get("href") for link in feed.findall("atom:link", NS)}
    assert links == {"self": urls.atom_feed, "alternate": urls.home}
    assert text(feed, "atom:author/atom:name") == "Ann's notes"
    assert text(feed, "atom:icon") == "https://blog.example/media/ann.png"
    # The newest change among the entries, not the time the feed happened to be built.
    assert datetime.fromisoformat(text(feed, "atom:updated")) == EDITED


def test_atom_entries_carry_ids_dates_content_and_categories(
    settings: Settings, urls: Urls
) -> None:
    feed = ET.fromstring(build_atom(settings, urls, articles()))
    entries = feed.findall("atom:entry", NS)
    assert [text(e, "atom:id") for e in entries] == [urls.article("second"), urls.article("first")]
    newer, older = entries
    assert text(newer, "atom:title") == "The second post"
    link = newer.find("atom:link", NS)
    assert link is not None
    assert link.get("href") == urls.article("second")
    assert datetime.fromisoformat(text(newer, "atom:published")) == SECOND
    assert datetime.fromisoformat(text(newer, "atom:updated")) == EDITED
    assert datetime.fromisoformat(text(older, "atom:updated")) == FIRST  # never edited
    assert text(newer, "atom:summary") == "A short one."
    assert older.find("atom:summary", NS) is None
    content = newer.find("atom:content", NS)
    assert content is not None
    assert content.get("type") == "html"
    # Escaped HTML in the XML; a site path turned into a full URL for readers far away.
    assert content.text == (
        "<p>Hello <em>there</em>.</p>\n"
        '<p><img src="https://blog.example/media/cat.jpg" alt="A cat"></p>'
    )
    assert [c.get("term") for c in newer.findall("atom:category", NS)] == ["python", "Fediverse"]
    assert text(newer, "atom:author/atom:name") == "Ann's notes"


def test_atom_escapes_ampersands_and_angle_brackets(settings: Settings, urls: Urls) -> None:
    settings = replace(settings, display_name="Fish & <Chips>")
    article = make_article(title='Tom & Jerry <3 "quotes"')
    data = build_atom(settings, urls, [article])
    assert b"Tom &amp; Jerry &lt;3" in data
    feed = ET.fromstring(data)
    assert text(feed, "atom:title") == "Fish & <Chips>"
    assert text(feed, "atom:entry/atom:title") == 'Tom & Jerry <3 "quotes"'


# --- RSS -----------------------------------------------------------------------------------


def test_rss_channel_links_home_and_itself(settings: Settings, urls: Urls) -> None:
    rss = ET.fromstring(build_rss(settings, urls, articles()))
    assert (rss.tag, rss.get("version")) == ("rss", "2.0")
    channel = rss.find("channel")
    assert channel is not None
    assert text(channel, "title") == "Ann's notes"
    assert text(channel, "link") == urls.home
    assert text(channel, "description") == "Notes on small software."
    self_link = channel.find("atom:link", NS)
    assert self_link is not None
    assert (self_link.get("rel"), self_link.get("href")) == ("self", urls.rss_feed)
    assert text(channel, "language") == "en"
    assert parsedate_to_datetime(text(channel, "lastBuildDate")) == EDITED


def test_rss_items_carry_guids_dates_content_and_categories(settings: Settings, urls: Urls) -> None:
    rss = ET.fromstring(build_rss(settings, urls, articles()))
    newer, older = rss.findall("channel/item")
    guid = newer.find("guid")
    assert guid is not None
    assert (guid.text, guid.get("isPermaLink")) == (urls.article("second"), "true")
    assert text(newer, "link") == urls.article("second")
    assert text(newer, "title") == "The second post"
    assert parsedate_to_datetime(text(newer, "pubDate")) == SECOND
    assert parsedate_to_datetime(text(older, "pubDate")) == FIRST
    # With a summary: the summary is the description and the body goes in content:encoded.
    assert text(newer, "description") == "A short one."
    assert "<em>there</em>" in text(newer, "content:encoded")
    # Without one, the body is the description.
    assert "<em>there</em>" in text(older, "description")
    assert [c.text for c in newer.findall("category")] == ["python", "Fediverse"]
    assert older.findall("category") == []
    # RSS <author> would need an e-mail address; the name goes in dc:creator.
    assert text(newer, "dc:creator") == "Ann's notes"
    assert newer.find("author") is None


def test_rss_escapes_ampersands_and_angle_brackets(settings: Settings, urls: Urls) -> None:
    data = build_rss(settings, urls, [make_article(title="R&D <notes>")])
    assert b"R&amp;D &lt;notes&gt;" in data
    assert text(ET.fromstring(data), "channel/item/title") == "R&D <notes>"


# --- both ----------------------------------------------------------------------------------


def test_content_warning_is_stated_before_the_body(settings: Settings, urls: Urls) -> None:
    article = make_article(content_warning="Spiders & <snakes>")
    feed = ET.fromstring(build_atom(settings, urls, [article]))
    content = text(feed, "atom:entry/atom:content")
    assert content.startswith(
        "<p><strong>Content warning: Spiders &amp; &lt;snakes&gt;</strong></p>"
    )
    assert "<em>there</em>" in content


def test_only_site_paths_are_made_absolute(settings: Settings, urls: Urls) -> None:
    body = (
        "<a href='/posts/first'>before</a> <a href=\"https://other.example/x\">out</a> "
        '<img src="//cdn.example/y.png" alt=""> <a href="#note">note</a>'
    )
    feed = ET.fromstring(build_atom(settings, urls, [make_article(body_html=body)]))
    assert text(feed, "atom:entry/atom:content") == (
        "<a href='https://blog.example/posts/first'>before</a> "
        '<a href="https://other.example/x">out</a> '
        '<img src="//cdn.example/y.png" alt=""> <a href="#note">note</a>'
    )


def test_characters_xml_cannot_carry_are_dropped(settings: Settings, urls: Urls) -> None:
    article = make_article(title="Form\x0cfeed", body_html="<p>bell\x07</p>")
    for build in (build_atom, build_rss):
        data = build(settings, urls, [article])
        ET.fromstring(data)  # parses: one stray control character must not break the feed
        assert b"Formfeed" in data
        assert b"bell&lt;/p&gt;" in data


def test_an_empty_blog_has_valid_empty_feeds(settings: Settings, urls: Urls) -> None:
    empty: Page[Article] = Page((), 0, 1, 20)
    atom = ET.fromstring(build_atom(settings, urls, empty.items))
    assert atom.findall("atom:entry", NS) == []
    rss = ET.fromstring(build_rss(settings, urls, empty.items))
    assert rss.findall("channel/item") == []
