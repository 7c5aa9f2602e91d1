"""Plain text out of HTML: excerpts for previews, and the images a body shows inline."""

from __future__ import annotations

from html.parser import HTMLParser

from fedipub.types import Article

EXCERPT_WORDS = 40

# Elements whose edges separate words, so "<p>one</p><p>two</p>" reads "one two".
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_SKIPPED = frozenset({"script", "style", "template"})


class _BodyScanner(HTMLParser):
    """Reads an article body once for its plain text and the images it shows inline."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.image_sources: set[str] = set()
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")
        elif tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.image_sources.add(src)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def scan_body(body_html: str) -> _BodyScanner:
    scanner = _BodyScanner()
    scanner.feed(body_html)
    scanner.close()
    return scanner


def excerpt(body_html: str, words: int = EXCERPT_WORDS) -> str:
    """The first `words` words of an HTML body as plain text, with an ellipsis if cut."""
    text = "".join(scan_body(body_html).parts).split()
    if len(text) <= words:
        return " ".join(text)
    return " ".join(text[:words]) + "…"


def preview(article: Article) -> str:
    """What a list or a link preview shows of an article: its summary, else its content
    warning (a preview must not reveal what the warning hides), else its opening words."""
    if article.summary:
        return article.summary
    if article.content_warning:
        return f"Content warning: {article.content_warning}"
    return excerpt(article.body_html)
