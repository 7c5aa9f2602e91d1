"""Taking part from elsewhere, over real HTTP: the remote-interaction redirect (with a peer on
loopback answering WebFinger and NodeInfo), the embeddable comments, and conditional GETs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.keys import KeySet
from fedipub.vocab import JRD_JSON
from tests.federation.worlds import World, running_world
from tests.servers import free_port

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
AS2 = "application/activity+json"


@pytest.fixture(scope="module")
def peer_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def world(tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey) -> Iterator[World]:
    with running_world(tmp_path, keyset, peer_key) as built:
        yield built


def _host(world: World) -> str:
    return world.peer.base.removeprefix("http://")


def _interact(world: World, uri: str, instance: str | None) -> httpx.Response:
    params = {"uri": uri} if instance is None else {"uri": uri, "instance": instance}
    return httpx.get(f"{world.base}/authorize_interaction", params=params)


def _mastodon_page(host: str, uri: str) -> str:
    return f"https://{host}/authorize_interaction?uri={quote(uri, safe='')}"


# --- the redirect --------------------------------------------------------------------------


def test_a_handle_goes_where_its_webfinger_says(world: World) -> None:
    host = _host(world)
    world.peer.put(
        "/.well-known/webfinger",
        {
            "subject": f"acct:alice@{host}",
            "links": [
                {"rel": "http://ostatus.org/schema/1.0/subscribe",
                 "template": f"https://{host}/authorize_interaction?uri={{uri}}"},
                {"rel": "https://w3id.org/fep/3b86/Object",
                 "template": f"https://{host}/intents/object?object={{object}}&next={{on-success}}"},
            ],
        },
        content_type=JRD_JSON,
    )  # fmt: skip
    response = _interact(world, world.article_url(), f"@alice@{host}")
    assert response.status_code == 303
    encoded = quote(world.article_url(), safe="")
    assert response.headers["location"] == f"https://{host}/intents/object?object={encoded}&next="
    assert response.headers["cache-control"] == "no-store"
    lookup = next(r for r in world.peer.received if r.path == "/.well-known/webfinger")
    assert lookup.headers["accept"].startswith(JRD_JSON)


def test_a_webfinger_template_on_another_host_is_not_followed(world: World) -> None:
    host = _host(world)
    world.peer.put(
        "/.well-known/webfinger",
        {"links": [{"rel": "http://ostatus.org/schema/1.0/subscribe",
                    "template": "https://evil.example/phish?uri={uri}"}]},
        content_type=JRD_JSON,
    )  # fmt: skip
    response = _interact(world, world.article_url(), f"alice@{host}")
    assert response.headers["location"] == _mastodon_page(host, world.article_url())


def test_a_bare_host_is_sent_to_its_software_page(world: World) -> None:
    host = _host(world)
    world.peer.put(
        "/.well-known/nodeinfo",
        {"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                    "href": world.peer.url("/nodeinfo/2.1")}]},
        content_type="application/json",
    )  # fmt: skip
    world.peer.put(
        "/nodeinfo/2.1", {"software": {"name": "akkoma"}}, content_type="application/json"
    )
    actor = f"{world.blog.base_url}/users/blog"
    response = _interact(world, actor, host)
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"https://{host}/ostatus_subscribe?acct={quote(actor, safe='')}"
    )


def test_software_without_a_web_page_gets_an_explanation(world: World) -> None:
    world.peer.put(
        "/.well-known/nodeinfo",
        {"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                    "href": world.peer.url("/nodeinfo/2.0")}]},
        content_type="application/json",
    )  # fmt: skip
    world.peer.put("/nodeinfo/2.0", {"software": {"name": "gotosocial"}})
    response = _interact(world, world.article_url(), _host(world))
    assert response.status_code == 200
    assert "has no web page" in response.text
    assert world.article_url() in response.text


def test_an_unreachable_instance_falls_back_to_mastodons_page(world: World) -> None:
    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    response = _interact(world, world.article_url(), f"https://{host}/")
    assert response.headers["location"] == _mastodon_page(host, world.article_url())


def test_a_slow_instance_falls_back_to_mastodons_page(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The blog runs in this process (uvicorn in a thread): no time at all for discovery.
    monkeypatch.setattr("fedipub.routes.interaction.DISCOVERY_SECONDS", 0.0)
    host = _host(world)
    world.peer.put("/.well-known/nodeinfo", {"links": []}, content_type="application/json")
    response = _interact(world, world.article_url(), host)
    assert response.headers["location"] == _mastodon_page(host, world.article_url())


def test_with_the_ssrf_guard_on_nothing_is_fetched_from_private_addresses(
    tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey
) -> None:
    with running_world(tmp_path, keyset, peer_key, allow_private_addresses=False) as guarded:
        response = _interact(guarded, guarded.article_url(), f"@alice@{_host(guarded)}")
        assert response.headers["location"] == _mastodon_page(_host(guarded), guarded.article_url())
        assert guarded.peer.received == []


@pytest.mark.parametrize(
    "instance",
    [
        "javascript:alert(1)",
        "https://mastodon.social/evil",
        "//evil.example",
        "mastodon.social/@me",
        "me @mastodon.social",
        "@@mastodon.social",
        "evil.example\\@mastodon.social",
        "mastodon.social:99999",
        "localhost",
        "a" * 400,
    ],
)
def test_anything_but_an_instance_or_handle_is_refused(world: World, instance: str) -> None:
    response = _interact(world, world.article_url(), instance)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "is not an instance or a handle" in response.text
    assert world.peer.received == []


def test_only_our_own_pages_can_be_interacted_with(world: World) -> None:
    for uri in ("https://evil.example/x", world.article_url("missing"), world.base + "/x"):
        response = _interact(world, uri, "mastodon.social")
        assert response.status_code == 400
        assert "location" not in response.headers


def test_without_an_instance_the_form_is_shown(world: World) -> None:
    response = _interact(world, world.article_url(), None)
    assert response.status_code == 200
    assert 'name="instance"' in response.text
    assert f'value="{world.article_url()}"' in response.text


def test_the_pages_carry_the_forms(world: World) -> None:
    article = httpx.get(world.article_url()).text
    assert 'action="/authorize_interaction"' in article
    assert f'name="uri" value="{world.article_url()}"' in article
    for page in ("/", "/users/blog"):
        text = httpx.get(world.base + page, headers={"Accept": BROWSER}).text
        assert f'name="uri" value="{world.blog.base_url}/users/blog"' in text
        assert '<code class="handle" data-copy>@blog@' in text


# --- embedding -----------------------------------------------------------------------------


def _comment(world: World, content: str, **extra: object) -> dict[str, object]:
    note = world.note(world.alice, world.article_url(), content, **extra)
    assert world.send(world.wrap("Create", world.alice, note)).status_code == 202
    return note


def test_comments_json_is_threaded_counted_and_open_to_any_site(world: World) -> None:
    first = _comment(world, "<p>First!</p>")
    reply = world.note(world.user("bob"), str(first["id"]), "<p>A reply</p>")
    assert (
        world.send(world.wrap("Create", world.user("bob"), reply), by=world.user("bob")).status_code
        == 202
    )
    world.send(world.wrap("Like", world.alice, world.article_url()))
    response = httpx.get(f"{world.article_url()}/comments.json")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["article"] == world.article_url()
    assert document["counts"] == {"comments": 2, "likes": 1, "boosts": 0}
    assert document["reactions"]["likes"]["people"][0]["id"] == world.alice.id
    [top] = document["comments"]
    assert top["id"] == first["id"]
    assert top["content_html"] == "<p>First!</p>"
    assert top["author"]["handle"] == f"@alice@{_host(world)}"
    assert [r["in_reply_to"] for r in top["replies"]] == [first["id"]]
    assert httpx.get(world.base + "/posts/missing/comments.json").status_code == 404


def test_comments_html_is_a_fragment_with_absolute_urls(world: World) -> None:
    _comment(world, "<p>Embedded</p>")
    response = httpx.get(f"{world.article_url()}/comments.html")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    text = response.text
    assert text.lstrip().startswith('<section class="fedipub-comments comments"')
    assert "<html" not in text and "<script" not in text and "site-header" not in text
    assert "Embedded" in text
    assert f'action="{world.blog.base_url}/authorize_interaction"' in text
    assert 'src="/' not in text and 'href="/' not in text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "referrer-policy" in response.headers


# --- conditional GET -----------------------------------------------------------------------


@pytest.mark.parametrize("accept", [BROWSER, AS2])
def test_the_article_answers_304_until_a_comment_changes_it(world: World, accept: str) -> None:
    first = httpx.get(world.article_url(), headers={"Accept": accept})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('W/"')
    assert "Accept" in first.headers["vary"]
    again = httpx.get(world.article_url(), headers={"Accept": accept, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "Accept" in again.headers["vary"]
    assert again.headers["x-content-type-options"] == "nosniff"
    dated = httpx.get(
        world.article_url(), headers={"Accept": accept, "If-Modified-Since": modified}
    )
    assert dated.status_code == 304
    _comment(world, "<p>New</p>", published="2026-11-29T11:00:00Z")
    changed = httpx.get(world.article_url(), headers={"Accept": accept, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    later = httpx.get(
        world.article_url(), headers={"Accept": accept, "If-Modified-Since": modified}
    )
    assert later.status_code == 200


def test_html_and_as2_have_different_etags(world: World) -> None:
    html = httpx.get(world.article_url(), headers={"Accept": BROWSER}).headers["etag"]
    note = httpx.get(world.article_url(), headers={"Accept": AS2})
    assert note.headers["etag"] != html
    assert (
        httpx.get(world.article_url(), headers={"Accept": AS2, "If-None-Match": html}).status_code
        == 200
    )


@pytest.mark.parametrize("path", ["/", "/tags/python", "/users/blog"])
def test_list_pages_are_conditional_too(world: World, path: str) -> None:
    first = httpx.get(world.base + path, headers={"Accept": BROWSER})
    assert first.status_code == 200
    headers = {"Accept": BROWSER, "If-None-Match": f'"x", {first.headers["etag"]}'}
    assert httpx.get(world.base + path, headers=headers).status_code == 304
    for header in ("x-content-type-options", "referrer-policy", "content-security-policy"):
        assert header in first.headers
    assert "'unsafe-inline'" not in first.headers["content-security-policy"]
