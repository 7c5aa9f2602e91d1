"""The public HTML pages: what a browser, a link preview and a fediverse server read in them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fedipub.article_source import render_markdown
from fedipub.config import ProfileLink, Settings
from fedipub.html_text import excerpt
from fedipub.render import Renderer, static_dir, template_dir
from fedipub.types import Article, Image, Page, Tombstone
from fedipub.urls import Urls

# --- a small DOM, so assertions read elements and attributes rather than substrings ---------

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, tag: str, attrs: dict[str, str] | None = None) -> list[Node]:
        wanted = attrs or {}
        return [
            n
            for n in self.iter()
            if n.tag == tag and all(n.attrs.get(k) == v for k, v in wanted.items())
        ]

    def find(self, tag: str, attrs: dict[str, str] | None = None) -> Node:
        found = self.find_all(tag, attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
        return found[0]

    def meta(self, prop: str) -> str:
        return self.find("meta", {"property": prop}).attrs["content"]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self._stack[-1].children.append(node)
        if tag not in _VOID:
            self._stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        # Strict on purpose: a mis-nested page fails here rather than being repaired.
        assert tag == self._stack[-1].tag, f"</{tag}> closes <{self._stack[-1].tag}>"
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)


def parse(document: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(document)
    builder.close()
    return builder.root


# --- fixtures ------------------------------------------------------------------------------

PUBLISHED = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
UPDATED = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
BODY = "Hello **world** & friends.\n\n![A cat on a mat](/media/cat.jpg)\n\nThe end."


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, domain="blog.example", display_name="Ann's notes")


def urls_for(settings: Settings) -> Urls:
    return Urls(settings.base_url, settings.username)


def make_article(**changes: object) -> Article:
    article = Article(
        id=1,
        slug="hello",
        title="Hello, fediverse",
        body_markdown=BODY,
        body_html=render_markdown(BODY),
        summary="A first post.",
        tags=("python", "Fediverse"),
        language=None,
        content_warning=None,
        images=(
            Image(url="/media/cat.jpg", alt="A cat on a mat"),
            Image(url="/media/dog.jpg", alt="A dog", width=800, height=600),
        ),
        published=PUBLISHED,
        updated=None,
        source_hash="h",
    )
    return replace(article, **changes)  # type: ignore[arg-type]


def page_of(*articles: Article, total: int | None = None, page: int = 1) -> Page[Article]:
    return Page(articles, len(articles) if total is None else total, page, 20)


def all_pages(renderer: Renderer) -> dict[str, str]:
    listing = page_of(make_article(), make_article(slug="two", summary=None))
    tombstone = Tombstone(slug="old", deleted=UPDATED, published=PUBLISHED)
    return {
        "home": renderer.home(listing, follower_count=3),
        "article": renderer.article(make_article()),
        "tag": renderer.tag("python", listing),
        "profile": renderer.profile(listing, follower_count=3),
        "gone": renderer.gone(tombstone),
        "error": renderer.error(404, "No such page"),
    }


# --- every page ----------------------------------------------------------------------------


def test_every_page_has_landmarks_feeds_and_the_fediverse_creator(settings: Settings) -> None:
    urls = urls_for(settings)
    for name, document in all_pages(Renderer(settings, urls)).items():
        tree = parse(document)
        assert tree.find("html").attrs["lang"] == "en", name
        for landmark in ("main", "nav", "footer"):
            assert tree.find_all(landmark), f"{name} has no <{landmark}>"
        assert tree.find_all("header"), name
        atom = tree.find("link", {"rel": "alternate", "type": "application/atom+xml"})
        rss = tree.find("link", {"rel": "alternate", "type": "application/rss+xml"})
        assert (atom.attrs["href"], rss.attrs["href"]) == (urls.atom_feed, urls.rss_feed)
        creator = tree.find("meta", {"name": "fediverse:creator"}).attrs["content"]
        assert creator == "@blog@blog.example"
        assert tree.find("link", {"rel": "stylesheet"}).attrs["href"] == "/static/style.css"


def test_no_page_has_scripts_or_inline_styles(settings: Settings) -> None:
    # The Content-Security-Policy forbids both; a page relying on them would break.
    for name, document in all_pages(Renderer(settings, urls_for(settings))).items():
        lowered = document.lower()
        assert "<script" not in lowered, name
        assert "style=" not in lowered, name


def test_article_title_is_escaped(settings: Settings) -> None:
    title = "<script>alert(1)</script>"
    document = Renderer(settings, urls_for(settings)).article(make_article(title=title))
    assert "<script" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    tree = parse(document)
    assert tree.find("h1").text() == title
    assert tree.meta("og:title") == title


def test_display_name_with_quotes_stays_inside_its_attributes(settings: Settings) -> None:
    name = 'Ann "the" <Writer>'
    settings = replace(settings, display_name=name)
    renderer = Renderer(settings, urls_for(settings))
    tree = parse(renderer.article(make_article()))
    assert tree.meta("og:site_name") == name
    atom = tree.find("link", {"type": "application/atom+xml"})
    assert atom.attrs["title"] == f"{name} (Atom)"
    profile = parse(renderer.profile(page_of(), follower_count=0))
    assert profile.find("img", {"class": "profile__avatar u-photo"}).attrs["alt"] == (
        f"Avatar of {name}"
    )


def test_page_language_follows_the_article_then_the_settings(settings: Settings) -> None:
    renderer = Renderer(replace(settings, language="de"), urls_for(settings))
    assert parse(renderer.article(make_article(language="fr"))).find("html").attrs["lang"] == "fr"
    assert parse(renderer.article(make_article())).find("html").attrs["lang"] == "de"
    assert parse(renderer.home(page_of(), follower_count=0)).find("html").attrs["lang"] == "de"


# --- the article page ----------------------------------------------------------------------


def test_article_head_links_the_note_canonical_url_and_opengraph(settings: Settings) -> None:
    urls = urls_for(settings)
    tree = parse(Renderer(settings, urls).article(make_article(updated=UPDATED)))
    url = "https://blog.example/posts/hello"
    assert url == urls.article("hello")
    note = tree.find("link", {"rel": "alternate", "type": "application/activity+json"})
    assert note.attrs["href"] == url
    assert tree.find("link", {"rel": "canonical"}).attrs["href"] == url
    assert tree.meta("og:type") == "article"
    assert tree.meta("og:url") == url
    assert tree.meta("og:title") == "Hello, fediverse"
    assert tree.meta("og:description") == "A first post."
    # Front matter named the image by path; a preview needs the full URL.
    assert tree.meta("og:image") == "https://blog.example/media/cat.jpg"
    assert tree.meta("og:image:alt") == "A cat on a mat"
    assert tree.meta("article:published_time") == "2026-11-29T10:00:00+00:00"
    assert tree.meta("article:modified_time") == "2026-12-01T08:30:00+00:00"
    tags = [m.attrs["content"] for m in tree.find_all("meta", {"property": "article:tag"})]
    assert tags == ["python", "Fediverse"]


def test_og_description_falls_back_to_the_opening_words(settings: Settings) -> None:
    words = " ".join(f"word{i}" for i in range(60))
    article = make_article(summary=None, body_html=f"<h2>Intro</h2><p>{words}</p>")
    tree = parse(Renderer(settings, urls_for(settings)).article(article))
    expected = "Intro " + " ".join(f"word{i}" for i in range(39)) + "…"
    assert tree.meta("og:description") == expected
    assert tree.find("meta", {"name": "description"}).attrs["content"] == expected


def test_byline_links_the_profile_and_dates_are_time_elements(settings: Settings) -> None:
    urls = urls_for(settings)
    renderer = Renderer(settings, urls)
    tree = parse(renderer.article(make_article(updated=UPDATED)))
    author = tree.find("a", {"rel": "author"})
    assert (author.attrs["href"], author.text()) == (urls.actor, "Ann's notes")
    times = {t.attrs["class"]: t for t in tree.find_all("time")}
    assert times["dt-published"].attrs["datetime"] == PUBLISHED.isoformat()
    assert times["dt-published"].text() == "29 November 2026"
    assert times["dt-updated"].attrs["datetime"] == UPDATED.isoformat()
    never_updated = parse(renderer.article(make_article()))
    assert [t.attrs["class"] for t in never_updated.find_all("time")] == ["dt-published"]


def test_content_warning_wraps_the_body_in_details(settings: Settings) -> None:
    renderer = Renderer(settings, urls_for(settings))
    tree = parse(renderer.article(make_article(content_warning="Spiders", summary=None)))
    details = tree.find("details", {"class": "cw"})
    assert "open" not in details.attrs
    assert "Spiders" in details.find("summary").text()
    assert "Hello world & friends." in details.find("div", {"class": "post__body e-content"}).text()
    # A link preview shows no warning, so it shows neither the body nor an image.
    assert tree.meta("og:description") == "Content warning: Spiders"
    assert not tree.find_all("meta", {"property": "og:image"})
    assert not parse(renderer.article(make_article())).find_all("details")


def test_body_html_is_kept_and_listed_images_not_inline_become_figures(
    settings: Settings,
) -> None:
    tree = parse(Renderer(settings, urls_for(settings)).article(make_article()))
    body = tree.find("div", {"class": "post__body e-content"})
    assert body.find("strong").text() == "world"
    sources = [img.attrs["src"] for img in body.find_all("img")]
    assert sources == ["/media/cat.jpg", "/media/dog.jpg"]  # the cat once, inline
    figure = body.find("figure")
    image = figure.find("img")
    assert (image.attrs["src"], image.attrs["alt"]) == ("/media/dog.jpg", "A dog")
    assert (image.attrs["width"], image.attrs["height"]) == ("800", "600")


def test_tags_link_to_their_tag_pages(settings: Settings) -> None:
    urls = urls_for(settings)
    tree = parse(Renderer(settings, urls).article(make_article()))
    links = {a.text(): a.attrs["href"] for a in tree.find_all("a", {"rel": "tag"})}
    assert links == {"#python": urls.tag("python"), "#Fediverse": urls.tag("Fediverse")}
    assert links["#Fediverse"] == "https://blog.example/tags/fediverse"


def test_comments_section_is_present_and_explains_how_to_reply(settings: Settings) -> None:
    tree = parse(Renderer(settings, urls_for(settings)).article(make_article()))
    section = tree.find("section", {"id": "comments"})
    heading = section.find("h2")
    assert heading.attrs["id"] == section.attrs["aria-labelledby"]
    assert heading.text() == "Comments"
    text = " ".join(section.text().split())
    assert "Reply to this post from your fediverse account (Mastodon" in text
    assert "search for its URL https://blog.example/posts/hello in your instance" in text
    assert "@blog@blog.example" in text


# --- lists ---------------------------------------------------------------------------------


def test_home_lists_articles_with_summary_or_excerpt(settings: Settings) -> None:
    urls = urls_for(settings)
    listing = page_of(
        make_article(),
        make_article(slug="two", title="Two", summary=None),
        make_article(slug="three", title="Three", summary=None, content_warning="Spoilers"),
    )
    tree = parse(Renderer(settings, urls).home(listing, follower_count=1))
    cards = tree.find_all("article")
    assert [c.find("a", {"class": "u-url"}).attrs["href"] for c in cards] == [
        urls.article("hello"),
        urls.article("two"),
        urls.article("three"),
    ]
    excerpts = [
        [p.text() for p in c.find_all("p", {"class": "card__excerpt p-summary"})] for c in cards
    ]
    # The warned article shows its warning, never its body.
    assert excerpts == [["A first post."], ["Hello world & friends. The end."], []]
    assert "Spoilers" in cards[2].find("span", {"class": "badge"}).text()
    assert "1 follower ·" in tree.find("section", {"class": "intro"}).text()


def test_paging_links_appear_only_where_there_is_a_page(settings: Settings) -> None:
    urls = urls_for(settings)
    renderer = Renderer(settings, urls)
    first = parse(renderer.home(page_of(make_article(), total=45), follower_count=0))
    assert first.find("a", {"rel": "next"}).attrs["href"] == f"{urls.home}?page=2"
    assert not first.find_all("a", {"rel": "prev"})
    middle = parse(renderer.tag("python", page_of(make_article(), total=45, page=2)))
    assert middle.find("a", {"rel": "prev"}).attrs["href"] == urls.tag("python")
    assert middle.find("a", {"rel": "next"}).attrs["href"] == f"{urls.tag('python')}?page=3"
    assert "Page 2 of 3" in middle.find("nav", {"class": "pager"}).text()
    last = parse(renderer.profile(page_of(make_article(), total=45, page=3), follower_count=0))
    assert last.find("a", {"rel": "prev"}).attrs["href"] == f"{urls.actor}?page=2"
    assert not last.find_all("a", {"rel": "next"})
    single = parse(renderer.home(page_of(make_article()), follower_count=0))
    assert not single.find_all("nav", {"class": "pager"})


def test_tag_page_names_the_tag_and_says_when_it_is_empty(settings: Settings) -> None:
    renderer = Renderer(settings, urls_for(settings))
    tree = parse(renderer.tag("python", page_of(make_article())))
    assert tree.find("h1").text() == "#python"
    assert tree.find("title").text() == "#python · Ann's notes"
    empty = parse(renderer.tag("rust", page_of()))
    assert "Nothing is tagged #rust yet." in empty.find("main").text()


# --- the profile ---------------------------------------------------------------------------


def test_profile_shows_identity_links_and_how_to_follow(settings: Settings) -> None:
    settings = replace(
        settings,
        summary="I write.",
        image_url="/media/header.jpg",
        profile_links=(
            ProfileLink("Mastodon", "https://mastodon.social/@ann"),
            ProfileLink("Trap", "javascript:alert(1)"),
        ),
        manually_approves_followers=True,
    )
    urls = urls_for(settings)
    tree = parse(Renderer(settings, urls).profile(page_of(make_article()), follower_count=2))
    assert tree.find("h1").text() == "Ann's notes"
    assert tree.find("p", {"class": "profile__handle"}).text() == "@blog@blog.example"
    assert tree.find("img", {"class": "profile__avatar u-photo"}).attrs["src"] == (
        "/static/avatar.svg"
    )
    banner = tree.find("img", {"class": "profile__banner"})
    assert banner.attrs["src"] == "https://blog.example/media/header.jpg"
    assert tree.find("p", {"class": "profile__summary p-note"}).text() == "I write."
    links = tree.find("dl", {"class": "profile__links"}).find_all("a")
    assert [(a.attrs["href"], a.attrs["rel"]) for a in links] == [
        ("https://mastodon.social/@ann", "me noopener")
    ]
    follow = " ".join(tree.find("section", {"class": "follow"}).text().split())
    assert "search for @blog@blog.example in your instance" in follow
    assert "approves follow requests by hand" in follow
    assert "2 followers" in tree.find("main").text()
    actor = tree.find("link", {"rel": "alternate", "type": "application/activity+json"})
    assert actor.attrs["href"] == urls.actor
    assert tree.find("article").find("a", {"class": "u-url"}).attrs["href"] == urls.article("hello")


def test_profile_uses_the_configured_avatar_and_offers_it_to_previews(settings: Settings) -> None:
    settings = replace(settings, icon_url="https://cdn.example/ann.png")
    tree = parse(Renderer(settings, urls_for(settings)).profile(page_of(), follower_count=0))
    assert tree.find("img", {"class": "profile__avatar u-photo"}).attrs["src"] == (
        "https://cdn.example/ann.png"
    )
    assert tree.meta("og:image") == "https://cdn.example/ann.png"


# --- gone and errors -----------------------------------------------------------------------


def test_gone_page_says_when_the_article_was_deleted(settings: Settings) -> None:
    tombstone = Tombstone(slug="old", deleted=UPDATED, published=PUBLISHED)
    tree = parse(Renderer(settings, urls_for(settings)).gone(tombstone))
    assert tree.find("h1").text() == "This article was deleted"
    assert [t.attrs["datetime"] for t in tree.find_all("time")] == [
        PUBLISHED.isoformat(),
        UPDATED.isoformat(),
    ]
    assert tree.find("meta", {"name": "robots"}).attrs["content"] == "noindex"


def test_error_page_names_the_status_and_escapes_the_message(settings: Settings) -> None:
    renderer = Renderer(settings, urls_for(settings))
    tree = parse(renderer.error(404, "No <b>such</b> page"))
    assert tree.find("h1").text() == "Not Found"
    assert "Error 404" in tree.find("main").text()
    assert "No <b>such</b> page" in tree.find("main").text()
    assert parse(renderer.error(599, "odd")).find("h1").text() == "Error"


# --- themes --------------------------------------------------------------------------------

OVERRIDE = """{% extends "base.html" %}
{% block content %}<p id="themed">Themed: {{ article.title }}</p>{% endblock %}
"""


def test_a_template_in_the_theme_folder_replaces_the_packages(
    settings: Settings, tmp_path: Path
) -> None:
    theme = tmp_path / "my-theme"
    theme.mkdir()
    (theme / "article.html").write_text(OVERRIDE, encoding="utf-8")
    renderer = Renderer(settings, urls_for(settings), theme_dir=theme)
    tree = parse(renderer.article(make_article(title="A & B")))
    assert tree.find("p", {"id": "themed"}).text() == "Themed: A & B"
    assert not tree.find_all("section", {"id": "comments"})
    # The rest still comes from the package, base.html included.
    assert tree.find_all("nav")
    assert parse(renderer.home(page_of(), follower_count=0)).find_all("section")


def test_the_data_folders_templates_are_the_default_theme(settings: Settings) -> None:
    (settings.data_dir / "templates").mkdir()
    (settings.data_dir / "templates" / "article.html").write_text(OVERRIDE, encoding="utf-8")
    document = Renderer(settings, urls_for(settings)).article(make_article())
    assert parse(document).find("p", {"id": "themed"}).text() == "Themed: Hello, fediverse"


# --- helpers and package files -------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>one</p><p>two</p>", "one two"),
        ("<p>un<em>believ</em>able &amp; <br>true</p>", "unbelievable & true"),
        ("<p>a</p><script>var x = 1;</script><style>p{}</style><p>b</p>", "a b"),
        ("<p>" + " ".join(["w"] * 41) + "</p>", " ".join(["w"] * 40) + "…"),
        ("<p>" + " ".join(["w"] * 40) + "</p>", " ".join(["w"] * 40)),
    ],
)
def test_excerpt_reads_words_across_blocks(html: str, expected: str) -> None:
    assert excerpt(html) == expected


def test_package_folders_hold_the_templates_and_static_files() -> None:
    for name in ("base.html", "home.html", "article.html", "tag.html", "profile.html", "gone.html"):
        assert (template_dir() / name).is_file(), name
    for name in ("style.css", "avatar.svg", "favicon.svg"):
        assert (static_dir() / name).is_file(), name


def test_stylesheet_is_self_contained_and_has_both_schemes() -> None:
    css = (static_dir() / "style.css").read_text(encoding="utf-8")
    assert "@import" not in css
    assert "url(" not in css  # no web fonts or remote images: the CSP allows only 'self'
    assert "prefers-color-scheme: dark" in css
    assert ":focus-visible" in css
