"""The blog's public HTML pages, rendered with jinja2 from the package's templates.

An admin restyles the blog by copying any template into DATA/templates and editing it: that
folder is searched first, so a single overridden file replaces the package's, the rest stay.
Autoescape is on everywhere; the values marked safe are an article's body, which is the
author's own Markdown rendered to HTML (see `article_source.render_markdown`), and what
`render_comments` builds of the comments under it.

The pages work without JavaScript and carry no inline script or style: the app's
Content-Security-Policy forbids both, so every look lives in static/style.css, and the one small
enhancement (relative times kept fresh, copy buttons, the reader's instance remembered) in
static/comments.js.

`comments_fragment` renders the comments section alone, for blogs that live elsewhere and embed
it: there every URL must be absolute, since relative ones would resolve against the host page.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup

from fedipub.config import Settings
from fedipub.html_text import preview, scan_body
from fedipub.render_comments import (
    anchor,
    comment_content,
    comments_view,
    emojify,
    exact_time,
    is_thumbnail,
    iso_utc,
    rating_of,
    time_ago,
    web_url,
)
from fedipub.threads import SortOrder
from fedipub.types import Article, Comment, Image, Page, Person, Reaction, Tombstone
from fedipub.urls import Urls

STATIC_PATH = "/static"  # where the app mounts static_dir()
STYLESHEET = "style.css"
SCRIPT = "comments.js"
DEFAULT_AVATAR = "avatar.svg"
FAVICON = "favicon.svg"
THEME_FOLDER = "templates"  # inside the data folder
# An article page viewed again before anything on it changed is not rendered again: at 1,000
# comments a render costs ~35 ms, comparing what it was made of ~5 (bench/page.py). That is
# everything the page is made of; `now` reaches the page only through each comment's "3 hours
# ago", so those strings are compared rather than the clock. The last render of each (article,
# order, page) is kept, for PAGE_MEMORY_SECONDS at most, so that an edited theme template
# shows within that time too.
PAGE_MEMORY = 8
PAGE_MEMORY_SECONDS = 60.0
# Where the remote-interaction form sends the reader: the path of Urls.subscribe_template().
INTERACTION_PATH = "/authorize_interaction"


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


def _static(name: str) -> str:
    # A path, not a full URL: the page's own stylesheet must stay same-origin for the CSP
    # ("style-src 'self'") even when the blog is browsed under another host name, as in dev.
    return f"{STATIC_PATH}/{name}"


def _long_date(value: datetime) -> str:
    return f"{value.day} {value:%B %Y}"


def _avatar(person: Person) -> str:
    return web_url(person.avatar) or _static(DEFAULT_AVATAR)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Renderer:
    """Renders each public page to a string; the routes choose status codes and headers.

    `theme_dir` defaults to DATA/templates; it is used when it exists, ahead of the package's.
    `clock` is what "3 hours ago" is counted from.
    """

    def __init__(
        self,
        settings: Settings,
        urls: Urls,
        *,
        theme_dir: Path | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._settings = settings
        self._urls = urls
        self._clock = clock
        self._pages: OrderedDict[tuple[int, SortOrder, int, int], tuple[float, object, str]] = (
            OrderedDict()
        )
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
            web_url=web_url,
            anchor=anchor,
            emojify=emojify,
            content=comment_content,
            ago=time_ago,
            exact_time=exact_time,
            iso_utc=iso_utc,
            avatar=self._avatar,
        )
        self._env.tests.update(thumbnail=is_thumbnail)
        icon = settings.icon_url
        self._env.globals.update(
            settings=settings,
            urls=urls,
            stylesheet_url=_static(STYLESHEET),
            script_url=_static(SCRIPT),
            favicon_url=_static(FAVICON),
            avatar_url=self._absolute(icon) if icon else _static(DEFAULT_AVATAR),
            interaction_action=INTERACTION_PATH,
            embed=False,
        )

    def _absolute(self, url: str) -> str:
        """Front matter may name images by path ("/media/cat.jpg"); previews need full URLs."""
        return urljoin(self._urls.home, url)

    @pass_context
    def _avatar(self, context: Context, person: Person) -> str:
        avatar = _avatar(person)
        return self._absolute(avatar) if context.get("embed") else avatar

    def _render(self, template: str, context: Mapping[str, object]) -> str:
        return self._env.get_template(template).render(context)

    def home(
        self,
        page: Page[Article],
        *,
        follower_count: int,
        comment_counts: Mapping[int, int] | None = None,
    ) -> str:
        """`comment_counts`: shown comments by article id, for the cards' "3 comments"."""
        return self._render(
            "home.html",
            {
                "page": page,
                "pager": _pager(self._urls.home, page),
                "follower_count": follower_count,
                "comment_counts": comment_counts or {},
            },
        )

    def article(
        self,
        article: Article,
        *,
        comments: Sequence[Comment] = (),
        reactions: Sequence[Reaction] = (),
        order: SortOrder = SortOrder.OLDEST,
        page: int = 1,
        per_page: int = 50,
        comment_likes: Mapping[str, int] | None = None,
    ) -> str:
        """The article, its rating line and one page of its comment threads (`per_page`
        top-level threads). `comment_likes` counts likes by comment id, for "Most liked"."""
        inline = {self._absolute(src) for src in scan_body(article.body_html).image_sources}
        figures = [i for i in article.images if self._absolute(i.url) not in inline]
        # A sensitive article's image must not surface in link previews, where no warning shows.
        preview_image: Image | None = (
            article.images[0] if article.images and not article.content_warning else None
        )
        now = self._clock()
        # Compared, not hashed: hashing the comments costs twice as much as comparing them.
        made_of = (
            article,
            tuple(comments),
            tuple(reactions),
            tuple(sorted((comment_likes or {}).items())),
            tuple(time_ago(comment.published, now) for comment in comments),
        )
        which = (article.id, order, page, per_page)
        remembered = self._pages.get(which)
        if (
            remembered is not None
            and time.monotonic() - remembered[0] < PAGE_MEMORY_SECONDS
            and remembered[1] == made_of
        ):
            self._pages.move_to_end(which)
            return remembered[2]
        context = self._comments_context(
            article, comments, reactions, order, page, per_page, comment_likes, now=now
        )
        html = self._render(
            "article.html",
            {
                **context,
                "body": Markup(article.body_html),  # noqa: S704 - the author's own HTML
                "figures": figures,
                "preview_image": preview_image,
            },
        )
        self._pages[which] = (time.monotonic(), made_of, html)
        self._pages.move_to_end(which)
        while len(self._pages) > PAGE_MEMORY:
            self._pages.popitem(last=False)
        return html

    def comments_fragment(
        self,
        article: Article,
        *,
        comments: Sequence[Comment] = (),
        reactions: Sequence[Reaction] = (),
        order: SortOrder = SortOrder.OLDEST,
        page: int = 1,
        per_page: int = 50,
    ) -> str:
        """The article's rating line and comments, without the page around them, every URL
        absolute: the section a blog hosted elsewhere embeds."""
        context = self._comments_context(article, comments, reactions, order, page, per_page)
        return self._render(
            "comments_fragment.html",
            {
                **context,
                "embed": True,
                "interaction_action": self._absolute(INTERACTION_PATH),
            },
        )

    def _comments_context(
        self,
        article: Article,
        comments: Sequence[Comment],
        reactions: Sequence[Reaction],
        order: SortOrder,
        page: int,
        per_page: int,
        comment_likes: Mapping[str, int] | None = None,
        *,
        now: datetime | None = None,
    ) -> dict[str, object]:
        url = self._urls.article(article.slug)
        return {
            "article": article,
            "url": url,
            "lang": article.language or self._settings.language,
            "rating": rating_of(reactions),
            "comments": comments_view(
                comments,
                article_url=url,
                order=order,
                page=page,
                per_page=per_page,
                like_counts=comment_likes or {},
            ),
            "now": self._clock() if now is None else now,
        }

    def interact(
        self, uri: str, *, instance: str = "", error: str | None = None, no_page: bool = False
    ) -> str:
        """The remote-interaction form on a page of its own: for `/authorize_interaction`
        without an instance, with a mistake to correct (`error`), or when the reader's software
        has no page to send them to (`no_page`)."""
        return self._render(
            "interact.html",
            {
                "uri": uri,
                "follow": uri == self._urls.actor,
                "instance": instance,
                "error": error,
                "no_page": no_page,
            },
        )

    def tag(
        self, tag: str, page: Page[Article], *, comment_counts: Mapping[int, int] | None = None
    ) -> str:
        return self._render(
            "tag.html",
            {
                "tag": tag,
                "page": page,
                "pager": _pager(self._urls.tag(tag), page),
                "comment_counts": comment_counts or {},
            },
        )

    def profile(self, page: Page[Article], *, follower_count: int) -> str:
        links = [link for link in self._settings.profile_links if web_url(link.url)]
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
