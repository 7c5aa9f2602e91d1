"""The public HTML pages: what a browser, a link preview and a fediverse server read in them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fedipub.article_source import render_markdown
from fedipub.config import ProfileLink, Settings
from fedipub.html_text import excerpt
from fedipub.render import Renderer, static_dir, template_dir
from fedipub.render_comments import MAX_AVATARS, exact_time, time_ago
from fedipub.sanitize import sanitize_remote_html
from fedipub.threads import SortOrder
from fedipub.types import (
    Article,
    Comment,
    CommentAttachment,
    CommentState,
    Image,
    Page,
    Person,
    Reaction,
    ReactionKind,
    Tombstone,
    Visibility,
)
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
        "interact": renderer.interact("https://blog.example/posts/hello", error="not a host"),
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


SCRIPT = {"src": "/static/comments.js", "defer": ""}


def assert_no_inline_script_or_style(document: str) -> None:
    """The Content-Security-Policy forbids inline script and style; a page relying on them
    would break. The one script allowed is the article page's own, from /static."""
    tree = parse(document)
    assert all(s.attrs == SCRIPT and not s.children for s in tree.find_all("script"))
    assert len(tree.find_all("script")) == document.lower().count("<script")
    for node in tree.iter():
        for attribute in node.attrs:
            assert attribute != "style", node
            assert not attribute.startswith("on"), node
    assert not tree.find_all("style")


def test_no_page_has_scripts_or_inline_styles(settings: Settings) -> None:
    for name, document in all_pages(Renderer(settings, urls_for(settings))).items():
        assert_no_inline_script_or_style(document)
        assert "style=" not in document.lower(), name
        scripts = parse(document).find_all("script")
        enhanced = name in ("article", "home", "profile", "interact")  # forms and copy buttons
        assert [s.attrs for s in scripts] == ([SCRIPT] if enhanced else []), name


def test_article_title_is_escaped(settings: Settings) -> None:
    title = "<script>alert(1)</script>"
    document = Renderer(settings, urls_for(settings)).article(make_article(title=title))
    assert "<script>" not in document
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
    assert heading.text() == "No comments yet"
    assert not section.find_all("ol") and not section.find_all("nav")
    assert not tree.find_all("section", {"class": "reactions"})
    howto = section.find("section", {"class": "reply-howto"})
    assert howto.find("h3").text() == "Reply from your fediverse account"
    text = " ".join(howto.text().split())
    assert "Reply to this post from Mastodon, Pixelfed, Misskey, GoToSocial" in text
    assert "your reply appears here as a comment" in text
    assert howto.find("code", {"class": "copyable"}).text() == "https://blog.example/posts/hello"
    assert howto.find("code", {"class": "handle"}).text() == "@blog@blog.example"


# --- comments --------------------------------------------------------------------------------

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ARTICLE_URL = "https://blog.example/posts/hello"
BLOBCAT = "https://cdn.social.example/emoji/blobcat.png"


def make_person(name: str = "bob", display: str = "Bob", **changes: object) -> Person:
    person = Person(
        id=f"https://social.example/users/{name}",
        name=display,
        handle=f"@{name}@social.example",
        avatar=f"https://cdn.social.example/avatars/{name}.png",
        url=f"https://social.example/@{name}",
    )
    return replace(person, **changes)  # type: ignore[arg-type]


def make_comment(
    name: str, parent: str | None = None, *, ago: timedelta = timedelta(hours=3), **changes: object
) -> Comment:
    comment = Comment(
        id=f"https://social.example/notes/{name}",
        article_id=1,
        parent_id=None if parent is None else f"https://social.example/notes/{parent}",
        author=make_person(),
        content_html=f"<p>Comment {name}</p>",
        summary=None,
        sensitive=False,
        language=None,
        attachments=(),
        emojis=(),
        url=f"https://social.example/@bob/{name}",
        visibility=Visibility.PUBLIC,
        state=CommentState.SHOWN,
        is_local=False,
        replies_collection=None,
        published=NOW - ago,
        updated=None,
    )
    return replace(comment, **changes)  # type: ignore[arg-type]


def make_reaction(number: int, kind: ReactionKind, emoji: str = "") -> Reaction:
    return Reaction(
        activity_id=f"https://social.example/activities/{kind.value}/{number}",
        kind=kind,
        article_id=1,
        actor=make_person(f"fan{number}", f"Fan {number}"),
        emoji=emoji,
        created=NOW - timedelta(minutes=100 - number),
    )


def render_comments(settings: Settings, *comments: Comment, **options: object) -> Node:
    """The article page with `comments`, as seen at NOW; the comments <section>."""
    renderer = Renderer(settings, urls_for(settings), clock=lambda: NOW)
    document = renderer.article(make_article(), comments=comments, **options)  # type: ignore[arg-type]
    assert_no_inline_script_or_style(document)
    return parse(document).find("section", {"id": "comments"})


def cards(section: Node) -> list[Node]:
    return section.find_all("article")


def test_heading_counts_shown_comments_on_every_page_not_placeholders(
    settings: Settings,
) -> None:
    section = render_comments(
        settings,
        make_comment("gone", state=CommentState.DELETED),
        make_comment("reply", "gone"),
        make_comment("other"),
        make_comment("third"),
        per_page=1,
    )
    assert section.find("h2").text() == "3 comments"
    single = render_comments(settings, make_comment("only"))
    assert single.find("h2").text() == "1 comment"


def test_a_comment_shows_its_author_time_content_and_original(settings: Settings) -> None:
    section = render_comments(settings, make_comment("a"))
    card = section.find("article")
    assert card.attrs["class"] == "comment p-comment h-cite"
    author = card.find("a", {"class": "comment__author p-author h-card"})
    assert author.attrs["href"] == "https://social.example/@bob"
    assert author.attrs["rel"] == "nofollow noopener ugc"
    avatar = author.find("img")
    assert avatar.attrs["src"] == "https://cdn.social.example/avatars/bob.png"
    assert (avatar.attrs["alt"], avatar.attrs["loading"]) == ("", "lazy")
    assert author.find("span", {"class": "comment__name p-name"}).text() == "Bob"
    assert card.find("span", {"class": "comment__handle"}).text() == "@bob@social.example"
    time = card.find("time")
    assert time.text() == "3 hours ago"
    assert time.attrs["datetime"] == "2026-12-03T09:00:00+00:00"
    assert time.attrs["title"] == "3 December 2026, 09:00 UTC"
    assert card.find("div", {"class": "comment__content e-content"}).find("p").text() == (
        "Comment a"
    )
    original = card.find("a", {"class": "u-url"})
    assert original.text() == "View original"
    assert original.attrs["href"] == "https://social.example/@bob/a"
    assert original.attrs["rel"] == "nofollow noopener ugc"
    assert not card.find_all("span", {"class": "badge badge--author"})
    assert not card.find_all("span", {"class": "comment__edited"})
    assert not card.find_all("details")


def test_an_avatar_falls_back_to_the_default_and_bad_links_are_not_links(
    settings: Settings,
) -> None:
    author = make_person(avatar=None, url="javascript:alert(1)")
    card = render_comments(
        settings, make_comment("a", author=author, url="data:text/html,hi")
    ).find("article")
    assert card.find("img", {"class": "comment__avatar u-photo"}).attrs["src"] == (
        "/static/avatar.svg"
    )
    assert not card.find_all("a")  # neither the profile nor the original
    assert card.find("span", {"class": "comment__author p-author h-card"}).text().strip() == "Bob"


def test_remote_text_is_escaped_everywhere(settings: Settings) -> None:
    hostile = '<script>alert(1)</script>" onmouseover="x'
    author = make_person(display=f"Eve {hostile}", handle=f"@{hostile}@evil.example")
    comment = make_comment(
        "a",
        author=author,
        summary=f"CW {hostile}",
        attachments=(
            CommentAttachment("https://evil.example/a.png", "image/png", f"alt {hostile}", "image"),
            CommentAttachment("https://evil.example/a.pdf", None, f"file {hostile}", "document"),
        ),
        emojis=((":ok:", 'https://evil.example/"><script>x</script>.png'), (hostile, BLOBCAT)),
        content_html=sanitize_remote_html(f"<p onclick='x' style='y'>:ok: {hostile}</p>"),
    )
    renderer = Renderer(settings, urls_for(settings), clock=lambda: NOW)
    document = renderer.article(make_article(), comments=[comment])
    assert "<script>" not in document
    assert_no_inline_script_or_style(document)
    card = parse(document).find("article", {"class": "comment p-comment h-cite"})
    assert card.find("span", {"class": "comment__name p-name"}).text() == f"Eve {hostile}"
    assert card.find("span", {"class": "comment__handle"}).text() == f"@{hostile}@evil.example"
    assert card.find("summary").text() == f"Content warning: CW {hostile}"
    assert card.find("img", {"src": "https://evil.example/a.png"}).attrs["alt"] == f"alt {hostile}"
    assert card.find("a", {"class": "attachments__file"}).text() == f"file {hostile} (document)"
    # One emoji image: ":ok:", its URL kept inside its attribute. The hostile "shortcode" is
    # one fedipub.parse would refuse, so it is never looked for and stays escaped text.
    emoji = card.find("img", {"class": "emoji"})
    assert emoji.attrs["src"] == 'https://evil.example/"><script>x</script>.png'
    assert emoji.attrs["alt"] == ":ok:"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34; onmouseover" in document


def test_content_html_is_kept_as_given_and_emoji_replaced_in_its_text_only(
    settings: Settings,
) -> None:
    html = (
        '<p>Hi :blobcat: and :unknown: <a href="https://x.example/:blobcat:" rel="nofollow">'
        ':blobcat:</a> <abbr title="a > :blobcat:">b</abbr></p><p>:blobcat::blobcat:</p>'
    )
    comment = make_comment("a", content_html=html, emojis=((":blobcat:", BLOBCAT),))
    content = render_comments(settings, comment).find(
        "div", {"class": "comment__content e-content"}
    )
    link = content.find("a")
    assert link.attrs["href"] == "https://x.example/:blobcat:"
    assert content.find("abbr").attrs["title"] == "a > :blobcat:"
    emojis = content.find_all("img", {"class": "emoji"})
    assert len(emojis) == 4
    assert {(e.attrs["src"], e.attrs["alt"], e.attrs["title"]) for e in emojis} == {
        (BLOBCAT, ":blobcat:", ":blobcat:")
    }
    assert ":unknown:" in content.text()
    plain = make_comment("b", content_html="<p>As <b>given</b> &amp; kept</p>")
    document = Renderer(settings, urls_for(settings)).article(make_article(), comments=[plain])
    assert "<p>As <b>given</b> &amp; kept</p>" in document


def test_custom_emoji_in_a_display_name_become_images(settings: Settings) -> None:
    author = make_person(display="Bob :blobcat: & co")
    comment = make_comment("a", author=author, emojis=((":blobcat:", BLOBCAT),))
    name = render_comments(settings, comment).find("span", {"class": "comment__name p-name"})
    assert name.text() == "Bob  & co"
    assert name.find("img").attrs == {
        "class": "emoji",
        "src": BLOBCAT,
        "alt": ":blobcat:",
        "title": ":blobcat:",
    }


def test_a_content_warning_folds_the_content_and_media_into_details(settings: Settings) -> None:
    photo = CommentAttachment("https://cdn.example/p.jpg", "image/jpeg", "A spider", "image")
    card = render_comments(
        settings, make_comment("a", summary="Spiders", sensitive=True, attachments=(photo,))
    ).find("article")
    details = card.find("details")
    assert "open" not in details.attrs
    assert " ".join(details.find("summary").text().split()) == "Content warning: Spiders"
    assert details.find("div", {"class": "comment__content e-content"})
    assert details.find("img").attrs["alt"] == "A spider"
    # Sensitive without a warning text: the media only are folded.
    card = render_comments(settings, make_comment("b", sensitive=True, attachments=(photo,))).find(
        "article"
    )
    assert card.find("summary").text() == "Sensitive media"
    assert not card.find("details").find_all("div", {"class": "comment__content e-content"})


def test_attachments_are_thumbnails_or_links_never_inline_svg(settings: Settings) -> None:
    files = (
        CommentAttachment("https://cdn.example/cat.webp", "image/webp", "A cat", "image"),
        CommentAttachment("https://cdn.example/logo.svg", "image/svg+xml", "Logo", "image"),
        CommentAttachment("https://cdn.example/untyped.svg", None, "", "image"),
        CommentAttachment("https://cdn.example/talk.mp3", "audio/mpeg", "My talk", "audio"),
        CommentAttachment("javascript:alert(1)", "image/png", "Trap", "image"),
    )
    card = render_comments(settings, make_comment("a", attachments=files)).find("article")
    images = card.find("ul", {"class": "attachments"}).find_all("img")
    assert [(i.attrs["src"], i.attrs["alt"], i.attrs["loading"]) for i in images] == [
        ("https://cdn.example/cat.webp", "A cat", "lazy")
    ]
    links = [
        (a.attrs["href"], a.text()) for a in card.find_all("a", {"class": "attachments__file"})
    ]
    assert links == [
        ("https://cdn.example/logo.svg", "Logo (image)"),
        ("https://cdn.example/untyped.svg", "Attachment (image)"),
        ("https://cdn.example/talk.mp3", "My talk (audio)"),
    ]


def test_an_edited_comment_says_so_and_the_authors_reply_is_badged(settings: Settings) -> None:
    section = render_comments(
        settings,
        make_comment("a", updated=NOW - timedelta(hours=1)),
        make_comment("b", "a", ago=timedelta(hours=2), is_local=True),
    )
    edited, reply = cards(section)
    marker = edited.find("span", {"class": "comment__edited"})
    assert (marker.text(), marker.attrs["title"]) == ("edited", "Edited 3 December 2026, 11:00 UTC")
    assert "comment--author" in reply.attrs["class"].split()
    assert reply.find("span", {"class": "badge badge--author"}).text() == "Author"


def test_a_deleted_comment_above_replies_is_a_placeholder(settings: Settings) -> None:
    section = render_comments(
        settings,
        make_comment("gone", state=CommentState.DELETED, content_html=""),
        make_comment("reply", "gone"),
        make_comment("gone-alone", state=CommentState.DELETED),
    )
    placeholder = section.find("div", {"class": "comment comment--deleted"})
    assert placeholder.text().strip() == "This comment was deleted"
    assert not placeholder.find_all("img") and not placeholder.find_all("a")
    top = section.find("ol", {"class": "thread thread--top"})
    assert len([c for c in top.children if isinstance(c, Node)]) == 1
    assert [c.find("p").text() for c in cards(section)] == ["Comment reply"]


def test_replies_are_nested_lists_and_a_flattened_reply_names_whom_it_answers(
    settings: Settings,
) -> None:
    chain = [make_comment("r0", ago=timedelta(hours=10))] + [
        make_comment(
            f"r{i}",
            f"r{i - 1}",
            ago=timedelta(hours=10 - i),
            author=make_person(f"p{i}", f"Person {i}"),
        )
        for i in range(1, 7)
    ]
    section = render_comments(settings, *chain)
    nested = section.find("ol", {"class": "thread thread--top"})
    depth = 0
    while inner := [n for n in nested.find_all("ol") if n is not nested]:
        nested, depth = inner[0], depth + 1
    assert depth == 4
    # r5 answers r4 and r6 answers r5, but both sit beside r4 at the deepest level.
    assert [c.find("p").text() for c in cards(nested)] == [
        "Comment r4",
        "Comment r5",
        "Comment r6",
    ]
    r4, r5, r6 = cards(nested)
    assert not r4.find("span", {"class": "comment__meta"}).find_all("a")  # under its parent
    assert r5.find("span", {"class": "comment__meta"}).find("a").text() == "Person 4"
    answered = r6.find("span", {"class": "comment__meta"}).find("a")
    assert answered.text() == "Person 5"
    assert answered.attrs["href"] == f"#{r5.attrs['id']}"
    # Within the depth limit a reply sits under its parent and names no one.
    assert not cards(section)[1].find("span", {"class": "comment__meta"}).find_all("a")


def test_sort_links_mark_the_current_order(settings: Settings) -> None:
    comments = [make_comment("a"), make_comment("b", ago=timedelta(hours=1))]
    section = render_comments(settings, *comments, order=SortOrder.NEWEST)
    links = section.find("nav", {"class": "sort"}).find_all("a")
    assert [(a.text(), a.attrs["href"], a.attrs.get("aria-current")) for a in links] == [
        ("Oldest", f"{ARTICLE_URL}?sort=oldest#comments", None),
        ("Newest", f"{ARTICLE_URL}?sort=newest#comments", "true"),
        ("Most liked", f"{ARTICLE_URL}?sort=liked#comments", None),
    ]
    assert [c.find("p").text() for c in cards(section)] == ["Comment b", "Comment a"]
    liked = render_comments(
        settings, *comments, order=SortOrder.LIKED, comment_likes={comments[0].id: 4}
    )
    assert [c.find("p").text() for c in cards(liked)] == ["Comment a", "Comment b"]
    assert cards(liked)[0].find("span", {"class": "comment__likes"}).text() == "♥ 4 likes"
    # One comment has nothing to sort.
    assert not render_comments(settings, comments[0]).find_all("nav")


def test_long_threads_are_paged_keeping_the_order(settings: Settings) -> None:
    comments = [make_comment(f"t{i}", ago=timedelta(hours=10 - i)) for i in range(5)]
    first = render_comments(settings, *comments, per_page=2, order=SortOrder.NEWEST)
    pager = first.find("nav", {"class": "pager"})
    assert "Page 1 of 3" in pager.text()
    assert not pager.find_all("a", {"rel": "prev"})
    assert pager.find("a", {"rel": "next"}).attrs["href"] == (
        f"{ARTICLE_URL}?page=2&sort=newest#comments"
    )
    assert [c.find("p").text() for c in cards(first)] == ["Comment t4", "Comment t3"]
    middle = render_comments(settings, *comments, per_page=2, page=2)
    assert middle.find("a", {"rel": "prev"}).attrs["href"] == f"{ARTICLE_URL}?sort=oldest#comments"
    assert middle.find("a", {"rel": "next"}).attrs["href"] == (
        f"{ARTICLE_URL}?page=3&sort=oldest#comments"
    )
    beyond = render_comments(settings, *comments, per_page=2, page=99)
    assert [c.find("p").text() for c in cards(beyond)] == ["Comment t4"]
    assert not beyond.find_all("a", {"rel": "next"})
    assert beyond.find("h2").text() == "5 comments"
    assert not render_comments(settings, *comments).find_all("nav", {"class": "pager"})


def test_a_thousand_comments_in_a_few_threads_render(settings: Settings) -> None:
    comments = []
    for thread in range(5):
        comments.append(make_comment(f"t{thread}", ago=timedelta(days=30)))
        comments += [
            make_comment(
                f"t{thread}-{i}",
                f"t{thread}" if i == 0 else f"t{thread}-{i - 1}",
                ago=timedelta(days=30, minutes=-i),
                emojis=((":blobcat:", BLOBCAT),),
            )
            for i in range(199)
        ]
    section = render_comments(settings, *comments)
    assert section.find("h2").text() == "1000 comments"
    assert len(cards(section)) == 1000


# --- the rating line -----------------------------------------------------------------------


def render_rating(settings: Settings, *reactions: Reaction) -> Node:
    document = Renderer(settings, urls_for(settings)).article(make_article(), reactions=reactions)
    assert_no_inline_script_or_style(document)
    return parse(document).find("section", {"class": "reactions"})


def test_rating_line_counts_likes_boosts_and_emoji(settings: Settings) -> None:
    reactions = [
        make_reaction(1, ReactionKind.LIKE),
        make_reaction(2, ReactionKind.LIKE),
        make_reaction(1, ReactionKind.ANNOUNCE),
        make_reaction(3, ReactionKind.EMOJI, "🎉"),
        make_reaction(4, ReactionKind.EMOJI, "🎉"),
        make_reaction(5, ReactionKind.EMOJI, ":blob<b>:"),
    ]
    # A peer re-sending its Like under a new id likes no more.
    again = replace(reactions[0], activity_id="https://social.example/activities/like/again")
    section = render_rating(settings, *reactions, again)
    assert section.find("h2").text() == "Reactions"
    counts = [
        " ".join(li.text().split())
        for li in section.find("ul", {"class": "reactions__counts"}).find_all("li")
    ]
    assert counts == ["♥ 2 likes", "⇄ 1 boost", "🎉 2", ":blob<b>: 1"]
    likers = section.find("ul", {"aria-label": "Liked by"}).find_all("a")
    assert [(a.attrs["href"], a.attrs["class"]) for a in likers] == [
        ("https://social.example/@fan1", "face p-like h-card"),
        ("https://social.example/@fan2", "face p-like h-card"),
    ]
    face = likers[0].find("img")
    assert (face.attrs["alt"], face.attrs["loading"]) == ("Fan 1", "lazy")
    assert likers[0].attrs["title"] == "Fan 1 (@fan1@social.example)"
    boosters = section.find("ul", {"aria-label": "Boosted by"}).find_all("a")
    assert [a.attrs["class"] for a in boosters] == ["face p-repost h-card"]


def test_rating_line_shows_twenty_faces_and_counts_the_rest(settings: Settings) -> None:
    likes = [make_reaction(i, ReactionKind.LIKE) for i in range(MAX_AVATARS + 7)]
    section = render_rating(settings, *likes)
    faces = section.find("ul", {"aria-label": "Liked by"})
    assert len(faces.find_all("img")) == MAX_AVATARS
    assert faces.find("li", {"class": "faces__more"}).text() == "and 7 more"
    assert f"{MAX_AVATARS + 7} likes" in section.text()
    assert not section.find_all("ul", {"aria-label": "Boosted by"})


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (timedelta(seconds=-30), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=59, seconds=59), "59 minutes ago"),
        (timedelta(hours=3), "3 hours ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=29), "29 days ago"),
        (timedelta(days=65), "2 months ago"),
        (timedelta(days=800), "2 years ago"),
    ],
)
def test_relative_times(ago: timedelta, expected: str) -> None:
    assert time_ago(NOW - ago, NOW) == expected


def test_exact_times_are_utc() -> None:
    paris = datetime(2026, 12, 3, 13, 5, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    assert exact_time(paris) == "3 December 2026, 13:05 UTC"
    assert exact_time(datetime(2026, 12, 3, 13, 5)) == "3 December 2026, 13:05 UTC"


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


def test_cards_link_to_their_comments_when_there_are_some(settings: Settings) -> None:
    urls = urls_for(settings)
    renderer = Renderer(settings, urls)
    listing = page_of(
        make_article(), make_article(id=2, slug="two"), make_article(id=3, slug="three")
    )
    counts = {1: 3, 2: 1}
    for tree in (
        parse(renderer.home(listing, follower_count=0, comment_counts=counts)),
        parse(renderer.tag("python", listing, comment_counts=counts)),
    ):
        links = [
            [(a.attrs["href"], a.text()) for a in card.find("p", {"class": "meta"}).find_all("a")]
            for card in tree.find_all("article")
        ]
        assert links == [
            [(f"{urls.article('hello')}#comments", "3 comments")],
            [(f"{urls.article('two')}#comments", "1 comment")],
            [],
        ]
    plain = parse(renderer.home(listing, follower_count=0))
    assert not [
        a for c in plain.find_all("article") for a in c.find("p", {"class": "meta"}).find_all("a")
    ]


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
