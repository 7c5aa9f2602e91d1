"""The blog's public HTML pages, rendered with jinja2 from the package's templates.

An admin restyles the blog by copying any template into DATA/templates and editing it: that
folder is searched first, so a single overridden file replaces the package's, the rest stay.
Autoescape is on everywhere; the one value marked safe is an article's body, which is the
author's own Markdown rendered to HTML (see `article_source.render_markdown`).

The pages carry no JavaScript and no inline styles: the app's Content-Security-Policy forbids
both, so every look lives in static/style.css.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from fedipub.config import Settings
from fedipub.html_text import preview, scan_body
from fedipub.types import Article, Image, Page, Tombstone
from fedipub.urls import Urls

STATIC_PATH = "/static"  # where the app mounts static_dir()
STYLESHEET = "style.css"
DEFAULT_AVATAR = "avatar.svg"
FAVICON = "favicon.svg"
THEME_FOLDER = "templates"  # inside the data folder


def template_dir() -> Path:
    """The package's templates. fedipub is installed as files (setuptools package-data), so
    the resource is a real folder that jinja2's FileSystemLoader can read."""
    return Path(str(resources.files("fedipub").joinpath("templates")))


def static_dir() -> Path:
    """The package's CSS and images, for the app to serve at STATIC_PATH."""
    return Path(str(resources.files("fedipub").joinpath("static")))


@dataclass(frozen=True)
class Pager:
    """Links between the pages of a list; page 1 is the list's bare URL."""

    page: int
    pages: int
    newer: str | None
    older: str | None


def _pager(base_url: str, page: Page[Article]) -> Pager:
    def link(number: int) -> str:
        return base_url if number == 1 else f"{base_url}?page={number}"

    return Pager(
        page=page.page,
        pages=max(1, math.ceil(page.total / page.page_size)),
        newer=link(page.page - 1) if page.page > 1 else None,
        older=link(page.page + 1) if page.has_next else None,
    )


def _is_web_link(url: str) -> bool:
    # Jinja escapes attribute text but not a "javascript:" scheme; settings are the admin's,
    # still a typo'd or pasted link should never become script.
    return urlsplit(url).scheme in ("http", "https")


def _static(name: str) -> str:
    # A path, not a full URL: the page's own stylesheet must stay same-origin for the CSP
    # ("style-src 'self'") even when the blog is browsed under another host name, as in dev.
    return f"{STATIC_PATH}/{name}"


def _long_date(value: datetime) -> str:
    return f"{value.day} {value:%B %Y}"


class Renderer:
    """Renders each public page to a string; the routes choose status codes and headers.

    `theme_dir` defaults to DATA/templates; it is used when it exists, ahead of the package's.
    """

    def __init__(self, settings: Settings, urls: Urls, *, theme_dir: Path | None = None) -> None:
        self._settings = settings
        self._urls = urls
        theme = theme_dir if theme_dir is not None else settings.data_dir / THEME_FOLDER
        loaders: list[BaseLoader] = [FileSystemLoader(theme)] if theme.is_dir() else []
        loaders.append(FileSystemLoader(template_dir()))
        self._env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,  # a typo in a theme fails loudly instead of rendering ""
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(
            isodate=datetime.isoformat,
            longdate=_long_date,
            preview=preview,
            absolute=self._absolute,
        )
        icon = settings.icon_url
        self._env.globals.update(
            settings=settings,
            urls=urls,
            stylesheet_url=_static(STYLESHEET),
            favicon_url=_static(FAVICON),
            avatar_url=self._absolute(icon) if icon else _static(DEFAULT_AVATAR),
        )

    def _absolute(self, url: str) -> str:
        """Front matter may name images by path ("/media/cat.jpg"); previews need full URLs."""
        return urljoin(self._urls.home, url)

    def _render(self, template: str, context: Mapping[str, object]) -> str:
        return self._env.get_template(template).render(context)

    def home(self, page: Page[Article], *, follower_count: int) -> str:
        return self._render(
            "home.html",
            {
                "page": page,
                "pager": _pager(self._urls.home, page),
                "follower_count": follower_count,
            },
        )

    def article(self, article: Article) -> str:
        inline = {self._absolute(src) for src in scan_body(article.body_html).image_sources}
        figures = [i for i in article.images if self._absolute(i.url) not in inline]
        # A sensitive article's image must not surface in link previews, where no warning shows.
        preview_image: Image | None = (
            article.images[0] if article.images and not article.content_warning else None
        )
        return self._render(
            "article.html",
            {
                "article": article,
                "url": self._urls.article(article.slug),
                "lang": article.language or self._settings.language,
                "body": Markup(article.body_html),  # noqa: S704 - the author's own HTML
                "figures": figures,
                "preview_image": preview_image,
            },
        )

    def tag(self, tag: str, page: Page[Article]) -> str:
        return self._render(
            "tag.html", {"tag": tag, "page": page, "pager": _pager(self._urls.tag(tag), page)}
        )

    def profile(self, page: Page[Article], *, follower_count: int) -> str:
        links = [link for link in self._settings.profile_links if _is_web_link(link.url)]
        header = self._settings.image_url
        return self._render(
            "profile.html",
            {
                "page": page,
                "pager": _pager(self._urls.actor, page),
                "follower_count": follower_count,
                "links": links,
                "header_image": self._absolute(header) if header else None,
            },
        )

    def gone(self, tombstone: Tombstone) -> str:
        return self._render("gone.html", {"tombstone": tombstone})

    def error(self, status: int, message: str) -> str:
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
        return self._render("error.html", {"status": status, "title": title, "message": message})
