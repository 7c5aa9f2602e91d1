"""Every endpoint, in both representations, over real HTTP to a blog served by uvicorn."""

from __future__ import annotations

import httpx
import pytest

from fedipub.cli import main
from fedipub.config import Settings
from fedipub.multikey import decode_ed25519_multikey
from fedipub.proofs import verify_object_proof
from fedipub.vocab import AS_PUBLIC
from tests.blogs import ARTICLE, publish, write_article

AS2 = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MASTODON_ACCEPT = f"{AS2}, {LD}, text/html;q=0.1"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def published(blog: Settings) -> Settings:
    publish(blog, write_article(blog.data_dir.parent / "src", "a.md", ARTICLE))
    return blog


def _as2(client: httpx.Client, path: str, accept: str = AS2) -> httpx.Response:
    return client.get(path, headers={"Accept": accept})


def _html(client: httpx.Client, path: str) -> httpx.Response:
    return client.get(path, headers={"Accept": BROWSER})


def test_actor_in_both_representations(client: httpx.Client, blog: Settings) -> None:
    for accept in (AS2, LD, MASTODON_ACCEPT):
        response = _as2(client, "/users/blog", accept)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/activity+json; charset=utf-8"
        assert "Accept" in response.headers["vary"]
        actor = response.json()
        assert actor["id"] == "https://blog.example/users/blog"
        assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
        assert actor["assertionMethod"][0]["publicKeyMultibase"].startswith("z6Mk")
    page = _html(client, "/users/blog")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"]
    assert "Test Blog" in page.text
    assert _as2(client, "/users/nobody").status_code == 404
    assert _html(client, "/users/nobody").status_code == 404


def test_profile_alias_redirects_to_the_actor(client: httpx.Client) -> None:
    response = client.get("/@blog")
    assert response.status_code == 301
    assert response.headers["location"] == "https://blog.example/users/blog"


def test_instance_actor(client: httpx.Client) -> None:
    actor = _as2(client, "/actor").json()
    assert actor["type"] == "Application"
    assert actor["publicKey"]["owner"] == "https://blog.example/actor"


def test_article_is_a_page_and_a_note_at_one_url(client: httpx.Client, published: Settings) -> None:
    note_response = _as2(client, "/posts/hello-world")
    assert note_response.status_code == 200
    assert "Accept" in note_response.headers["vary"]
    note = note_response.json()
    assert note["type"] == "Note"
    assert note["id"] == "https://blog.example/posts/hello-world"
    assert note["to"] == [AS_PUBLIC]
    assert note["@context"][0] == "https://www.w3.org/ns/activitystreams"
    page = _html(client, "/posts/hello-world")
    assert page.status_code == 200
    assert "Accept" in page.headers["vary"]
    assert "Hello &lt;World&gt; &amp; friends" in page.text
    assert 'type="application/activity+json"' in page.text
    assert 'href="https://blog.example/posts/hello-world"' in page.text
    assert "fediverse:creator" in page.text
    assert "og:title" in page.text
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert _as2(client, "/posts/missing").status_code == 404
    assert _html(client, "/posts/missing").status_code == 404


def test_article_collections_are_empty_but_real(client: httpx.Client, published: Settings) -> None:
    for kind in ("replies", "likes", "shares"):
        collection = _as2(client, f"/posts/hello-world/{kind}").json()
        assert collection["type"] == "OrderedCollection"
        assert collection["totalItems"] == 0
        page = client.get(collection["first"].replace("https://blog.example", "")).json()
        assert page["type"] == "OrderedCollectionPage"
        assert page["orderedItems"] == []
    assert _as2(client, "/posts/hello-world/other").status_code == 404
    assert _as2(client, "/posts/missing/replies").status_code == 404


def test_outbox_pages_creates_newest_first_and_each_activity_resolves(
    client: httpx.Client, published: Settings
) -> None:
    second = ARTICLE.replace("slug: hello-world", "slug: second").replace(
        "2026-11-20T10:00:00Z", "2026-11-21T10:00:00Z"
    )
    publish(published, write_article(published.data_dir.parent / "src", "b.md", second))
    outbox = _as2(client, "/users/blog/outbox").json()
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 2
    page = client.get("/users/blog/outbox?page=1").json()
    items = page["orderedItems"]
    assert [item["type"] for item in items] == ["Create", "Create"]
    assert items[0]["object"]["id"].endswith("/posts/second")
    actor = _as2(client, "/users/blog").json()
    proof_key = decode_ed25519_multikey(actor["assertionMethod"][0]["publicKeyMultibase"])
    for item in items:
        path = item["id"].replace("https://blog.example", "")
        resolved = _as2(client, path)
        assert resolved.status_code == 200
        activity = resolved.json()
        assert activity["id"] == item["id"]
        # FEP-8b32: each activity carries a proof by the key the actor publishes.
        assert activity["proof"]["verificationMethod"] == actor["assertionMethod"][0]["id"]
        verify_object_proof(activity, proof_key)
    assert client.get("/activities/nonexistent").status_code == 404


def test_edit_updates_the_note_and_the_outbox(client: httpx.Client, published: Settings) -> None:
    edited = ARTICLE.replace("Some *Markdown*", "Edited *Markdown*")
    publish(published, write_article(published.data_dir.parent / "src", "a.md", edited))
    note = _as2(client, "/posts/hello-world").json()
    assert "Edited" in note["content"]
    assert "updated" in note
    created = client.get("/users/blog/outbox?page=1").json()["orderedItems"][0]
    assert "Edited" in created["object"]["content"]


def test_deleted_article_is_gone_with_a_tombstone(
    client: httpx.Client, published: Settings
) -> None:
    assert main(["unpublish", "--data", str(published.data_dir), "hello-world"]) == 0
    response = _as2(client, "/posts/hello-world")
    assert response.status_code == 410
    assert response.json()["type"] == "Tombstone"
    assert response.json()["formerType"] == "Note"
    assert _html(client, "/posts/hello-world").status_code == 410
    assert _as2(client, "/users/blog/outbox").json()["totalItems"] == 0


def test_followers_following_featured(client: httpx.Client) -> None:
    followers = _as2(client, "/users/blog/followers").json()
    assert followers == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://blog.example/users/blog/followers",
        "type": "OrderedCollection",
        "totalItems": 0,
        "first": "https://blog.example/users/blog/followers?page=1",
    }
    for path in ("following", "collections/featured", "collections/tags"):
        collection = _as2(client, f"/users/blog/{path}").json()
        assert collection["id"] == f"https://blog.example/users/blog/{path}"
        assert collection["totalItems"] == 0


def test_webfinger_host_meta_nodeinfo(client: httpx.Client, published: Settings) -> None:
    response = client.get("/.well-known/webfinger", params={"resource": "acct:blog@blog.example"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jrd+json")
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["subject"] == "acct:blog@blog.example"
    assert client.get("/.well-known/webfinger").status_code == 400
    missing = client.get("/.well-known/webfinger", params={"resource": "acct:x@blog.example"})
    assert missing.status_code == 404
    assert "lrdd" in client.get("/.well-known/host-meta").text
    assert client.get("/.well-known/host-meta.json").json()["links"][0]["rel"] == "lrdd"
    href = client.get("/.well-known/nodeinfo").json()["links"][0]["href"]
    nodeinfo = client.get(href.replace("https://blog.example", "")).json()
    assert nodeinfo["software"]["name"] == "fedipub"
    assert nodeinfo["usage"]["localPosts"] == 1


def test_html_pages_home_tags_feeds(client: httpx.Client, published: Settings) -> None:
    home = _html(client, "/")
    assert home.status_code == 200
    assert "Hello &lt;World&gt; &amp; friends" in home.text
    assert _html(client, "/tags/python").status_code == 200
    assert _html(client, "/tags/Python").status_code == 200
    assert _html(client, "/tags/unknown").status_code == 404
    atom = client.get("/feed.atom")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    assert "https://blog.example/posts/hello-world" in atom.text
    rss = client.get("/feed.rss")
    assert rss.headers["content-type"].startswith("application/rss+xml")
    assert "<rss" in rss.text
    assert client.get("/static/style.css").status_code == 200


def test_media_files_are_served_from_the_data_folder(client: httpx.Client, blog: Settings) -> None:
    (blog.data_dir / "media").mkdir()
    (blog.data_dir / "media" / "cat.jpg").write_bytes(b"\xff\xd8jpeg")
    assert client.get("/media/cat.jpg").content == b"\xff\xd8jpeg"
    assert client.get("/media/../fedipub.toml").status_code == 404
