"""The admin web's door, over real HTTP: the password set from the command line, login and
its rate limit, the session cookie, logging out, CSRF, and the headers of every admin page."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

from fedipub.auth import token_digest, verify_password
from fedipub.config import Settings
from fedipub.keys import KeySet
from tests.admins import (
    PASSWORD,
    csrf_of,
    login,
    loopback_blog,
    post_action,
    run_store,
    serving_admin,
)

PAGES = [
    "/admin/",
    "/admin/comments",
    "/admin/comments?state=hidden",
    "/admin/followers",
    "/admin/blocks",
    "/admin/deliveries",
    "/admin/inbox-log",
    "/admin/write",
]
ACTIONS = [
    "/admin/logout",
    "/admin/comments/moderate",
    "/admin/comments/reply",
    "/admin/followers/answer",
    "/admin/blocks/add",
    "/admin/blocks/remove",
    "/admin/write",
    "/admin/articles/delete",
]


@pytest.fixture
def admin_blog(tmp_path: Path, keyset: KeySet) -> Settings:
    return loopback_blog(tmp_path / "data", keyset)


@pytest.fixture
def admin(admin_blog: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """A client on a blog with an admin password, not logged in."""
    with serving_admin(admin_blog, monkeypatch, logged_in=False) as http:
        yield http


@pytest.fixture
def logged_in(admin_blog: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    with serving_admin(admin_blog, monkeypatch, logged_in=True) as http:
        yield http


# --- the password and logging in ---------------------------------------------------------


def test_without_a_password_the_login_page_says_how_to_set_one(client: httpx.Client) -> None:
    page = client.get("/admin/login")
    assert page.status_code == 200
    assert 'data-testid="no-password"' in page.text
    assert "fedipub admin-password --data DIR" in page.text
    assert 'type="password"' not in page.text
    refused = login(client)
    assert refused.status_code == 401
    assert "fedipub admin-password" in refused.text
    assert "set-cookie" not in refused.headers


def test_admin_password_reads_stdin_and_refuses_short_ones(admin_blog: Settings) -> None:
    data = str(admin_blog.data_dir)
    command = [sys.executable, "-m", "fedipub", "admin-password", "--data", data]
    short = subprocess.run(command, input="elevenchars\n", text=True, capture_output=True)
    assert short.returncode == 1
    assert short.stderr.strip() == (
        "fedipub: error: the admin password must be at least 12 characters"
    )
    assert run_store(admin_blog, lambda store: store.admin.password_hash()) is None
    done = subprocess.run(command, input=f"{PASSWORD}\n", text=True, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert f"{admin_blog.base_url}/admin/login" in done.stdout
    stored = run_store(admin_blog, lambda store: store.admin.password_hash())
    assert stored is not None
    assert PASSWORD not in stored
    assert verify_password(PASSWORD, stored)


def test_a_wrong_password_is_401_and_the_sixth_attempt_is_429(
    admin: httpx.Client,
) -> None:
    http = admin
    for _ in range(5):
        wrong = login(http, "not the password at all")
        assert wrong.status_code == 401
        assert "That is not the password." in wrong.text
    limited = login(http, "not the password at all")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 900
    assert "Too many wrong passwords" in limited.text
    # Now even the right password waits: guessing cannot go on.
    assert login(http).status_code == 429
    assert "set-cookie" not in login(http).headers


def test_a_success_clears_the_failures(admin: httpx.Client) -> None:
    http = admin
    for _ in range(4):
        assert login(http, "not the password at all").status_code == 401
    assert login(http).status_code == 303
    for _ in range(4):
        assert login(http, "not the password at all").status_code == 401


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_right_password_sets_a_strict_http_only_cookie(
    tmp_path: Path, keyset: KeySet, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    blog = loopback_blog(tmp_path / "data", keyset, scheme=scheme)
    with serving_admin(blog, monkeypatch, logged_in=False) as http:
        response = login(http, next="/admin/write")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/write"
    header = response.headers["set-cookie"]
    cookie = SimpleCookie()
    cookie.load(header)
    morsel = cookie["fedipub_admin"]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/admin"
    assert morsel["max-age"] == str(12 * 3600)
    assert bool(morsel["secure"]) is (scheme == "https")
    token = morsel.value
    assert len(token) >= 43  # 32 random bytes
    # The database holds the token's digest, never the token.
    assert run_store(blog, lambda store: store.admin.find_session(token)) is None
    assert run_store(blog, lambda store: store.admin.find_session(token_digest(token)))


def test_next_never_leaves_the_admin(admin: httpx.Client) -> None:
    http = admin
    for target in ("https://evil.example/", "//evil.example/admin/", "/posts/x", "/admin\\x"):
        assert login(http, next=target).headers["location"] == "/admin/comments"


def test_every_admin_page_needs_a_session(admin: httpx.Client) -> None:
    http = admin
    for path in PAGES:
        response = http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/admin/"), path
    assert http.get("/admin/deliveries").headers["location"] == (
        "/admin/login?next=%2Fadmin%2Fdeliveries"
    )
    for path in ACTIONS:
        response = http.post(path, data={"csrf": "x"})
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/admin/login"), path
    # A made-up cookie is no session either.
    http.cookies.set("fedipub_admin", "made-up", path="/admin")
    assert http.get("/admin/comments").status_code == 303


def test_admin_responses_are_not_stored_nor_framed(
    logged_in: httpx.Client,
) -> None:
    http = logged_in
    for path in [*PAGES[1:], "/admin/login", "/admin/nowhere"]:
        response = http.get(path)
        assert response.headers["cache-control"] == "no-store", path
        assert response.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    for path in PAGES[1:]:
        page = http.get(path)
        assert page.status_code == 200, path
        assert "<script" not in page.text
        assert " style=" not in page.text


# --- CSRF --------------------------------------------------------------------------------


def _blocks(blog: Settings) -> list[str]:
    found = run_store(blog, lambda store: store.moderation.blocks())
    return [block.value for block in found]


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    logged_in: httpx.Client, admin_blog: Settings
) -> None:
    http, blog = logged_in, admin_blog
    form = {"kind": "domain", "value": "spam.example"}
    assert http.post("/admin/blocks/add", data=form).status_code == 403
    assert http.post("/admin/blocks/add", data={**form, "csrf": "0" * 64}).status_code == 403
    token = csrf_of(http.get("/admin/blocks").text)
    foreign = {"Origin": "https://evil.example"}
    refused = http.post("/admin/blocks/add", data={**form, "csrf": token}, headers=foreign)
    assert refused.status_code == 403
    assert "did not come from this admin page" in refused.text
    assert _blocks(blog) == []
    ours = {"Origin": blog.base_url}
    done = http.post("/admin/blocks/add", data={**form, "csrf": token}, headers=ours)
    assert done.status_code == 303
    assert done.headers["location"] == "/admin/blocks?done=blocked"
    assert _blocks(blog) == ["spam.example"]
    page = http.get(done.headers["location"]).text
    assert "Block added" in page
    assert "spam.example" in page
    assert post_action(http, "/admin/blocks", "/admin/blocks/remove", form).status_code == 303
    assert _blocks(blog) == []


def test_a_foreign_login_form_is_refused(admin: httpx.Client) -> None:
    http = admin
    response = http.post(
        "/admin/login", data={"password": PASSWORD}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_logout_ends_the_session_on_the_server(
    logged_in: httpx.Client, admin_blog: Settings
) -> None:
    http, blog = logged_in, admin_blog
    token = http.cookies["fedipub_admin"]
    assert http.get("/admin/comments").status_code == 200
    out = post_action(http, "/admin/comments", "/admin/logout", {})
    assert out.status_code == 303
    assert out.headers["location"] == "/admin/login?done=logged-out"
    assert run_store(blog, lambda store: store.admin.find_session(token_digest(token))) is None
    # The old cookie, replayed, opens nothing.
    http.cookies.set("fedipub_admin", token, path="/admin")
    assert http.get("/admin/comments").status_code == 303
