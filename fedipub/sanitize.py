"""HTML reduced to what the fediverse accepts, with nh3 (ammonia).

Two policies: our own article HTML becomes the subset Mastodon keeps (so what followers see is
what we meant, rather than what Mastodon's sanitizer leaves of it), and remote HTML (comments)
is reduced to the same strict subset with untrusted links.
"""

from __future__ import annotations

import functools

import nh3

# Mastodon's Sanitize::Config::MASTODON_STRICT (app/lib/sanitize_ext/sanitize_config.rb, 4.x).
_ELEMENTS = {
    "p", "br", "span", "a", "abbr", "del", "s", "pre", "blockquote", "code", "b", "strong",
    "u", "sub", "sup", "i", "em", "h1", "h2", "h3", "h4", "h5", "ul", "ol", "li",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "class", "translate"},
    "span": {"class", "translate"},
    "ol": {"start", "reversed"},
    "li": {"value"},
    "abbr": {"title"},
}
_SCHEMES = {"http", "https"}


# Every AS2 GET of an article builds its Note, and so sanitizes its body, again; a body only
# changes when the article is edited (bench/fetch.py: ~7% of an article GET).
@functools.lru_cache(maxsize=32)
def to_mastodon_html(html: str) -> str:
    """Our own article HTML as Mastodon will display it: images, tables and headings beyond
    h5 are dropped (images travel as attachments instead)."""
    return nh3.clean(
        html,
        tags=_ELEMENTS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def sanitize_remote_html(html: str) -> str:
    """HTML from another server, safe to show on our pages: the strict subset, http(s) links
    only, each marked as user content that must not pass on our reputation."""
    return nh3.clean(
        html,
        tags=_ELEMENTS,
        attributes={name: attrs - {"class"} for name, attrs in _ATTRIBUTES.items()},
        url_schemes=_SCHEMES,
        link_rel="nofollow noopener ugc",
        strip_comments=True,
    )


def plain_text(html: str) -> str:
    """Text without any markup (names, summaries): every tag removed, entities kept escaped."""
    return nh3.clean(html, tags=set(), attributes={}, strip_comments=True)
