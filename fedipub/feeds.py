"""The blog's Atom and RSS feeds, built with feedgen from stored articles; no I/O.

Entries carry the article's full HTML, so a feed reader shows what the web page shows. The
entry id is the article URL, the same id the fediverse sees, and never changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from urllib.parse import urljoin

from feedgen.feed import FeedGenerator

from fedipub.config import Settings
from fedipub.types import Article
from fedipub.urls import Urls

GENERATOR = "fedipub"

# Characters XML 1.0 cannot carry at all (lxml refuses them and the whole feed would fail):
# C0 controls other than tab, newline and carriage return, and the two non-characters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A src or href attribute holding a site path (but not "//host/…"), in either quote style.
_SITE_PATH = re.compile(r"""\b(?P<attr>src|href)=(?P<quote>["'])(?P<path>/(?!/)[^"']*)(?P=quote)""")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _absolute_links(body_html: str, urls: Urls) -> str:
    """Site paths ("/media/cat.jpg") made full URLs: a feed is read far from the site, and
    readers resolve a relative link against the feed, the entry, or nothing at all."""
    return _SITE_PATH.sub(
        lambda m: f"{m['attr']}={m['quote']}{urljoin(urls.home, m['path'])}{m['quote']}",
        body_html,
    )


def _content(article: Article, urls: Urls) -> str:
    body = _absolute_links(article.body_html, urls)
    # Feed readers know nothing of content warnings: say it before the body, as the page does.
    if article.content_warning:
        warning = escape(article.content_warning)
        return f"<p><strong>Content warning: {warning}</strong></p>\n{body}"
    return body


def _generator(
    settings: Settings, urls: Urls, articles: Sequence[Article], self_url: str
) -> FeedGenerator:
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)
    feed.id(urls.home)
    feed.title(_xml_text(settings.display_name))
    feed.subtitle(_xml_text(settings.summary or settings.display_name))
    feed.author(name=_xml_text(settings.display_name), uri=urls.actor)
    # RSS keeps only the last link given as its <link>: the home page goes last.
    feed.link(href=self_url, rel="self")
    feed.link(href=urls.home, rel="alternate")
    feed.language(settings.language)
    feed.generator(GENERATOR)
    if settings.icon_url:
        feed.icon(urljoin(urls.home, settings.icon_url))
    if articles:
        # A fixed date for unchanged content keeps the bytes, and so the ETag, stable.
        feed.updated(max(a.updated or a.published for a in articles))
    for article in articles:
        url = urls.article(article.slug)
        entry = feed.add_entry(order="append")
        entry.guid(url, permalink=True)
        entry.title(_xml_text(article.title))
        entry.link(href=url, rel="alternate")
        entry.published(article.published)
        entry.updated(article.updated or article.published)
        entry.author(name=_xml_text(settings.display_name), uri=urls.actor)
        # RSS <author> must be an e-mail address, which a blog need not publish: dc:creator.
        entry.dc.dc_creator(_xml_text(settings.display_name))
        if article.summary:
            entry.summary(_xml_text(article.summary))
        entry.content(_xml_text(_content(article, urls)), type="html")
        for tag in article.tags:
            entry.category(term=tag, label=tag)
        if article.language:
            entry.dc.dc_language(article.language)
    return feed


def build_atom(settings: Settings, urls: Urls, articles: Sequence[Article]) -> bytes:
    """An Atom 1.0 document (RFC 4287) of `articles`, in the order given (newest first)."""
    data: bytes = _generator(settings, urls, articles, urls.atom_feed).atom_str(pretty=True)
    return data


def build_rss(settings: Settings, urls: Urls, articles: Sequence[Article]) -> bytes:
    """An RSS 2.0 document of `articles`, in the order given (newest first)."""
    data: bytes = _generator(settings, urls, articles, urls.rss_feed).rss_str(pretty=True)
    return data
