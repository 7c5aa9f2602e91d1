from __future__ import annotations

from fedipub.sanitize import plain_text, sanitize_remote_html, to_mastodon_html


def test_article_html_is_reduced_to_mastodons_subset() -> None:
    html = (
        '<h2>Title</h2><p class="x">Text <img src="a.png" alt="a"> <code>c</code> '
        '<a href="https://a.example/" onclick="x()">link</a></p><table><tr><td>1</td></tr></table>'
        '<script>alert(1)</script><p style="color:red">s</p>'
    )
    out = to_mastodon_html(html)
    assert "<h2>Title</h2>" in out
    assert "<code>c</code>" in out
    assert '<a href="https://a.example/">link</a>' in out
    for banned in ("<img", "<table", "<script", "onclick", "style=", "alert(1)"):
        assert banned not in out


def test_remote_html_gets_untrusted_links_only_over_http() -> None:
    out = sanitize_remote_html(
        '<p><a href="javascript:alert(1)">j</a><a href="https://ok.example/">ok</a>'
        '<a href="data:text/html,x">d</a><span class="h-card" onmouseover="x">n</span></p>'
    )
    assert "javascript:" not in out and "data:" not in out and "onmouseover" not in out
    assert '<a href="https://ok.example/" rel="nofollow noopener ugc">ok</a>' in out
    assert "class=" not in out


def test_plain_text_drops_every_tag() -> None:
    assert plain_text("<b>Bold</b> <script>x</script>name") == "Bold name"
