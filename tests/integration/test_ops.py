"""Operating a blog: `fedipub migrate` from every earlier schema, `doctor`, `keys`, /healthz,
/metrics, JSON logs and trusted proxies, on real servers over loopback."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from fedipub.app import create_app
from fedipub.cli import main
from fedipub.config import Settings
from fedipub.errors import StoreError
from fedipub.keys import BLOG_RSA_FILE, KeySet
from fedipub.logs import JsonFormatter
from fedipub.store import open_store
from fedipub.store.migrations import migrations
from fedipub.types import Follower, FollowState
from tests.blogs import ARTICLE, make_blog, publish, write_article
from tests.peers import signed_headers
from tests.servers import free_port, serve

# Rows for every table, in the shape each migration created it. A migration that adds a table
# adds rows for it here, so that every upgrade is tested over real data.
SEEDS: dict[str, list[str]] = {
    "0001_articles_activities_followers": [
        "INSERT INTO articles (id, slug, title, body_markdown, body_html, summary, tags,"
        " language, images, published, source_hash) VALUES (1, 'old-post', 'An old post',"
        " 'Hello', '<p>Hello</p>', 'Old', '[\"history\"]', 'en', '[]',"
        " '2024-01-01T10:00:00.000000Z', 'abc')",
        "INSERT INTO article_tags (tag, article_id) VALUES ('history', 1)",
        "INSERT INTO tombstones VALUES ('gone', '2023-01-01T00:00:00.000000Z',"
        " '2023-06-01T00:00:00.000000Z')",
        "INSERT INTO activities (id, type, object_id, document, published) VALUES ('a1',"
        " 'Create', 'https://blog.example/posts/old-post', '{\"type\": \"Create\"}',"
        " '2024-01-01T10:00:00.000000Z')",
        "INSERT INTO followers VALUES ('https://peer.example/users/alice',"
        " 'https://peer.example/users/alice/inbox', 'https://peer.example/inbox', 'accepted',"
        " 'https://peer.example/follows/1', '2024-01-02T00:00:00.000000Z')",
    ],
    "0002_remote_actors_and_keys": [
        "INSERT INTO remote_actors VALUES ('https://peer.example/users/alice', '{}',"
        " '2024-01-02T00:00:00.000000Z')",
        "INSERT INTO remote_keys VALUES ('https://peer.example/users/alice#main-key',"
        " 'https://peer.example/users/alice', 'PEM', '2024-01-02T00:00:00.000000Z')",
    ],
    "0003_inbox": [
        "INSERT INTO comments (id, article_id, author_id, author_name, author_handle,"
        " author_url, content_html, url, visibility, state, published, received) VALUES"
        " ('https://peer.example/notes/1', 1, 'https://peer.example/users/alice', 'Alice',"
        " '@alice@peer.example', 'https://peer.example/@alice', '<p>Nice</p>',"
        " 'https://peer.example/notes/1', 'public', 'shown', '2024-01-03T00:00:00.000000Z',"
        " '2024-01-03T00:00:00.000000Z')",
        "INSERT INTO reactions (activity_id, kind, article_id, actor_id, actor_name,"
        " actor_handle, actor_url, created) VALUES ('https://peer.example/likes/1', 'like', 1,"
        " 'https://peer.example/users/alice', 'Alice', '@alice@peer.example',"
        " 'https://peer.example/@alice', '2024-01-03T00:00:00.000000Z')",
        "INSERT INTO seen_activities VALUES ('https://peer.example/likes/1',"
        " '2024-01-03T00:00:00.000000Z')",
        "INSERT INTO inbox_log (received, activity_id, activity_type, actor, outcome, reason)"
        " VALUES ('2024-01-03T00:00:00.000000Z', 'https://peer.example/likes/1', 'Like',"
        " 'https://peer.example/users/alice', 'accepted', 'liked')",
        "INSERT INTO blocks VALUES ('domain', 'spam.example', '2024-01-03T00:00:00.000000Z')",
        "INSERT INTO mentions VALUES ('https://peer.example/notes/2',"
        " 'https://peer.example/users/alice', '@alice@peer.example', '<p>Hi</p>',"
        " 'https://peer.example/notes/2', 'direct', '2024-01-03T00:00:00.000000Z')",
        "INSERT INTO reports VALUES ('https://peer.example/flags/1',"
        " 'https://peer.example/users/alice', '[]', 'spam', '2024-01-03T00:00:00.000000Z')",
    ],
    "0004_deliveries": [
        "INSERT INTO deliveries (activity_id, activity_type, object_id, inbox, host,"
        " next_attempt, created, updated) VALUES ('a1', 'Create',"
        " 'https://blog.example/posts/old-post', 'https://peer.example/inbox', 'peer.example',"
        " '2024-01-01T10:00:00.000000Z', '2024-01-01T10:00:00.000000Z',"
        " '2024-01-01T10:00:00.000000Z')",
        "INSERT INTO delivery_hosts VALUES ('peer.example', 1, NULL,"
        " '2024-01-01T10:00:00.000000Z')",
    ],
    "0005_admin": [
        "INSERT INTO admin_password VALUES (1, 'scrypt$hash', '2024-01-04T00:00:00.000000Z')",
        "INSERT INTO admin_sessions VALUES ('deadbeef', '2024-01-04T00:00:00.000000Z',"
        " '2024-01-05T00:00:00.000000Z')",
        "INSERT INTO admin_login_failures (client, failed) VALUES ('203.0.113.9',"
        " '2024-01-04T00:00:00.000000Z')",
    ],
    "0007_article_mentions": [],  # a column with a default: the rows of 0001 cover it
    "0008_comment_likes": [
        "INSERT INTO comment_likes VALUES ('https://peer.example/likes/2',"
        " 'https://peer.example/notes/1', 'https://peer.example/users/alice',"
        " '2024-01-06T00:00:00.000000Z')",
    ],
}


def _database_at(path: Path, count: int) -> None:
    """A database as a release with only the first `count` migrations left it, with rows."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied TEXT)")
        for name, sql in migrations()[:count]:
            db.executescript(sql)
            db.execute(
                "INSERT INTO schema_migrations VALUES (?, '2024-01-01T00:00:00+00:00')", (name,)
            )
            for statement in SEEDS[name]:
                db.execute(statement)


def _rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'"
            )
        ]
        return {
            table: [dict(row) for row in db.execute(f"SELECT * FROM {table} ORDER BY rowid")]  # noqa: S608
            for table in tables
        }


def test_every_migration_has_seed_rows() -> None:
    missing = [name for name, _ in migrations() if name not in SEEDS]
    assert missing == [], "add rows for these migrations' tables to SEEDS"


@pytest.mark.parametrize("applied", range(1, len(migrations())))
def test_a_database_from_every_earlier_release_upgrades_with_its_rows(
    tmp_path: Path, keyset: KeySet, applied: int, capsys: pytest.CaptureFixture[str]
) -> None:
    blog = make_blog(tmp_path / "data", keyset)
    _database_at(blog.database_path, applied)
    before = _rows(blog.database_path)
    assert all(before.values()), "every table has rows before the upgrade"

    assert main(["migrate", "--data", str(blog.data_dir)]) == 0
    later = [name for name, _ in migrations()[applied:]]
    assert capsys.readouterr().out.splitlines() == [f"applied: {name}" for name in later]

    after = _rows(blog.database_path)
    for table, rows in before.items():
        kept = [{column: row[column] for column in rows[0]} for row in after[table]]
        assert kept == rows, table
    # And today's code reads them.
    assert main(["articles", "--data", str(blog.data_dir)]) == 0
    assert "An old post" in capsys.readouterr().out
    assert main(["migrate", "--data", str(blog.data_dir)]) == 0
    assert capsys.readouterr().out.strip() == "the database is up to date"


def test_a_database_from_a_newer_release_is_refused_in_one_line(
    tmp_path: Path, keyset: KeySet, capsys: pytest.CaptureFixture[str]
) -> None:
    blog = make_blog(tmp_path / "data", keyset)
    _database_at(blog.database_path, len(migrations()))
    with sqlite3.connect(blog.database_path) as db:
        db.execute("INSERT INTO schema_migrations VALUES ('9999_from_the_future', '')")
    assert main(["migrate", "--data", str(blog.data_dir)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "fedipub: error: the database was migrated by a newer fedipub (9999_from_the_future);"
        " downgrading is not supported: install that version again or restore a backup"
    ]


def test_migrate_without_a_database_is_one_line(
    tmp_path: Path, keyset: KeySet, capsys: pytest.CaptureFixture[str]
) -> None:
    blog = make_blog(tmp_path / "data", keyset)
    assert main(["migrate", "--data", str(blog.data_dir)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"fedipub: error: no database at {blog.database_path}"
    )


@contextmanager
def served_blog(
    root: Path, keyset: KeySet, **settings: Any
) -> Iterator[tuple[Settings, str, Starlette]]:
    """A blog whose domain is the loopback address it is served at, with one article."""
    port = free_port()
    values: dict[str, Any] = {"allow_private_addresses": True, "delivery_worker": False}
    blog = make_blog(
        root / "data", keyset, domain=f"127.0.0.1:{port}", scheme="http", **{**values, **settings}
    )
    publish(blog, write_article(root / "src", "a.md", ARTICLE))
    app = create_app(blog)
    with serve(app, port=port) as base:
        yield blog, base, app


def test_doctor_passes_on_a_running_blog(
    tmp_path: Path, keyset: KeySet, capsys: pytest.CaptureFixture[str]
) -> None:
    # In secure mode the article is only served to a signed fetch: doctor signs like a peer.
    with served_blog(tmp_path, keyset, secure_mode=True) as (blog, base, _):
        capsys.readouterr()
        assert main(["doctor", "--data", str(blog.data_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "OK    settings",
        "OK    keys",
        "OK    database",
        "OK    migrations",
        "OK    disk",
        "OK    webfinger",
        "OK    actor",
        "OK    article",
    ]
    assert lines[-1] == f"OK    article: {base}/posts/hello-world served as ActivityPub"


def test_doctor_names_each_problem_and_its_fix(
    tmp_path: Path, keyset: KeySet, capsys: pytest.CaptureFixture[str]
) -> None:
    nobody_listens = free_port()
    blog = make_blog(
        tmp_path / "data",
        keyset,
        domain=f"127.0.0.1:{nobody_listens}",
        scheme="http",
        allow_private_addresses=True,
    )
    _database_at(blog.database_path, len(migrations()) - 1)
    (blog.key_folder / BLOG_RSA_FILE).chmod(0o644)

    assert main(["doctor", "--data", str(blog.data_dir)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  keys: key file {blog.key_folder / BLOG_RSA_FILE} is readable by others" in out
    assert f"      fix: chmod 600 {blog.key_folder}/*.pem" in out
    last = migrations()[-1][0]
    assert f"FAIL  migrations: 1 pending: {last}" in out
    assert f"      fix: fedipub migrate --data {blog.data_dir}" in out
    assert "FAIL  webfinger: http://127.0.0.1:" in out
    assert "      fix: check DNS for 127.0.0.1:" in out
    assert "OK    database: integrity_check ok" in out


def test_doctor_without_settings_fails_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--data", str(tmp_path)]) == 1
    assert capsys.readouterr().out.startswith(f"FAIL  settings: no blog in {tmp_path}")


def _add_follower(blog: Settings) -> None:
    async def add() -> None:
        store = await open_store(blog.database_path)
        try:
            async with store.transaction() as tx:
                await store.followers.upsert(
                    tx,
                    Follower(
                        actor_id="http://127.0.0.1:9/users/gone",
                        inbox="http://127.0.0.1:9/users/gone/inbox",
                        shared_inbox=None,
                        state=FollowState.ACCEPTED,
                        follow_id="http://127.0.0.1:9/follows/1",
                        created=datetime.now(UTC),
                    ),
                )
        finally:
            await store.close()

    asyncio.run(add())


def test_healthz_says_the_database_answers_and_how_the_queue_does(
    tmp_path: Path, keyset: KeySet
) -> None:
    with served_blog(tmp_path, keyset) as (blog, base, _):
        empty = httpx.get(f"{base}/healthz")
        assert empty.status_code == 200
        assert empty.headers["cache-control"] == "no-store"
        assert empty.json() == {
            "status": "ok",
            "database": True,
            "delivery_queue": {"depth": 0, "oldest_pending_seconds": None},
        }
        _add_follower(blog)
        source = ARTICLE.replace("hello-world", "second")
        publish(blog, write_article(tmp_path / "src", "b.md", source))
        queued = httpx.get(f"{base}/healthz").json()
    assert queued["delivery_queue"]["depth"] == 1
    assert 0 <= queued["delivery_queue"]["oldest_pending_seconds"] < 60


def test_healthz_is_503_when_the_database_fails(
    tmp_path: Path, keyset: KeySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> None:
        raise StoreError("disk I/O error")

    with served_blog(tmp_path, keyset) as (_, base, app):
        monkeypatch.setattr(app.state.services.store.ops, "queue_stats", broken)
        response = httpx.get(f"{base}/healthz")
        metrics = httpx.get(f"{base}/metrics")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": False,
        "error": "disk I/O error",
    }
    assert metrics.status_code == 200  # the counters are still served


def _metric(text: str, line_start: str) -> float:
    found = [line for line in text.splitlines() if line.startswith(line_start)]
    assert len(found) == 1, (line_start, text)
    return float(found[0].rsplit(" ", 1)[1])


def test_metrics_count_inbox_outcomes_fetches_and_the_queue(tmp_path: Path, keyset: KeySet) -> None:
    gone = f"http://127.0.0.1:{free_port()}/users/ghost"
    with served_blog(tmp_path, keyset) as (blog, base, _):
        inbox = f"{base}/users/blog/inbox"
        follow = {
            "id": f"{gone}/follows/1",
            "type": "Follow",
            "actor": gone,
            "object": blog.base_url,
        }
        body = orjson.dumps({"@context": "https://www.w3.org/ns/activitystreams", **follow})
        assert httpx.post(inbox, content=body).status_code == 401  # unsigned
        # Signed with a key whose owner cannot be fetched: the fetch is timed, then refused.
        headers = signed_headers("POST", inbox, body, keyset.instance_rsa, f"{gone}#main-key")
        assert httpx.post(inbox, content=body, headers=headers).status_code == 401
        _add_follower(blog)
        publish(blog, write_article(tmp_path / "src", "b.md", ARTICLE.replace("hello-world", "b")))
        response = httpx.get(f"{base}/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    assert _metric(text, 'fedipub_inbox_activities_total{outcome="rejected",reason="401"}') == 2
    assert _metric(text, 'fedipub_fetch_seconds_count{outcome="error"}') == 1
    assert _metric(text, "fedipub_delivery_queue_depth ") == 1
    assert _metric(text, "fedipub_delivery_queue_oldest_seconds ") >= 0
    assert "fedipub_delivery_attempts_total" in text  # declared even before any attempt


def test_metrics_are_for_loopback_the_proxies_or_the_token(tmp_path: Path, keyset: KeySet) -> None:
    with served_blog(tmp_path, keyset, metrics_token="s3cret") as (_, base, _):
        url = f"{base}/metrics"
        assert httpx.get(url).status_code == 200  # loopback, no proxy
        # Through the (trusted) proxy on 127.0.0.1, for a client on the internet:
        public = {"X-Forwarded-For": "203.0.113.9"}
        assert httpx.get(url, headers=public).status_code == 403
        wrong = {**public, "Authorization": "Bearer guess"}
        assert httpx.get(url, headers=wrong).status_code == 403
        right = {**public, "Authorization": "Bearer s3cret"}
        assert httpx.get(url, headers=right).status_code == 200


def test_serve_refuses_world_readable_keys_in_one_line(
    tmp_path: Path, keyset: KeySet, capsys: pytest.CaptureFixture[str]
) -> None:
    blog = make_blog(tmp_path / "data", keyset)
    key = blog.key_folder / BLOG_RSA_FILE
    key.chmod(0o644)
    assert main(["serve", "--data", str(blog.data_dir), "--port", str(free_port())]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"fedipub: error: key file {key} is readable by others (mode 644); run: chmod 600 {key}"
    ]


def test_keys_prune_deletes_only_keys_past_the_grace_period(
    tmp_path: Path, keyset: KeySet, capsys: pytest.CaptureFixture[str]
) -> None:
    blog = make_blog(tmp_path / "data", keyset, key_grace_days=7)
    previous = blog.key_folder / "previous"
    previous.mkdir()
    now = datetime.now(UTC)
    old = previous / f"blog-rsa-{now - timedelta(days=8):%Y%m%dT%H%M%SZ}.pem"
    recent = previous / f"blog-rsa-{now - timedelta(days=6):%Y%m%dT%H%M%SZ}.pem"
    for path in (old, recent):
        path.write_bytes((blog.key_folder / BLOG_RSA_FILE).read_bytes())
    assert main(["keys", "prune", "--data", str(blog.data_dir)]) == 0
    assert not old.exists()
    assert recent.exists()
    assert capsys.readouterr().out.strip() == f"deleted {old}: past the 7-day grace period"


def test_keys_rotate_without_a_key_is_one_line(
    tmp_path: Path, keyset: KeySet, capsys: pytest.CaptureFixture[str]
) -> None:
    blog = make_blog(tmp_path / "data", keyset)
    (blog.key_folder / BLOG_RSA_FILE).unlink()
    assert main(["keys", "rotate", "--data", str(blog.data_dir)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"fedipub: error: key file {blog.key_folder / BLOG_RSA_FILE} is missing"
    ]


def test_the_json_formatter_writes_one_object_per_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "fedipub.delivery", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    document = json.loads(line)
    assert document["level"] == "error"
    assert document["logger"] == "fedipub.delivery"
    assert document["message"] == "failed x"
    assert "ValueError: boom" in document["exception"]


@pytest.mark.slow
def test_fedipub_serve_logs_json_and_believes_only_its_trusted_proxies(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    fedipub = [sys.executable, "-m", "fedipub"]
    subprocess.run(
        [
            *fedipub,
            "init",
            "--data",
            str(data),
            "--domain",
            f"127.0.0.1:{port}",
            "--scheme",
            "http",
        ],
        check=True,
        capture_output=True,
    )
    env = {
        **os.environ,
        "FEDIPUB_LOG_FORMAT": "json",
        "FEDIPUB_TRUSTED_PROXIES": "127.0.0.2",
        "FEDIPUB_REPLIES_CRAWL_INTERVAL": "0",
    }
    process = subprocess.Popen(
        [*fedipub, "serve", "--data", str(data), "--port", str(port)],
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "serve died"
                time.sleep(0.05)
        assert httpx.post(f"{base}/inbox", content=b'{"type": "Follow"}').status_code in (400, 401)
        claim = {"X-Forwarded-For": "203.0.113.9"}
        # From 127.0.0.1, not a trusted proxy: the claim is ignored, the client is loopback.
        assert httpx.get(f"{base}/metrics", headers=claim).status_code == 200
        # From the trusted proxy: believed, and an internet client may not read metrics.
        proxy = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(transport=proxy) as client:
            assert client.get(f"{base}/metrics", headers=claim).status_code == 403
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.strip()]
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "uvicorn.access", "fedipub.inbox"} <= loggers
    inbox = next(line for line in lines if line["logger"] == "fedipub.inbox")
    assert inbox["message"].startswith("rejected ")
    assert inbox["level"] == "info"
