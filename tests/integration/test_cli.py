"""The command-line contract: happy paths and one-line errors for every user mistake."""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
from pathlib import Path

import pytest

from fedipub.cli import main
from fedipub.config import load_settings
from fedipub.keys import KEY_FILES
from tests.blogs import ARTICLE, write_article


def _init(data: Path, *extra: str) -> int:
    return main(["init", "--data", str(data), "--domain", "blog.example", *extra])


def test_init_creates_settings_database_and_private_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "blog"
    assert _init(data, "--username", "news", "--display-name", "News", "--scheme", "http") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "http://blog.example/users/news"
    settings = load_settings(data, {})
    assert settings.username == "news"
    assert settings.display_name == "News"
    assert settings.created
    assert (data / "fedipub.sqlite3").exists()
    for name in KEY_FILES:
        assert stat.S_IMODE((data / "keys" / name).stat().st_mode) == 0o600
    for private in ("fedipub.toml", "fedipub.sqlite3"):
        assert stat.S_IMODE((data / private).stat().st_mode) == 0o600


def test_init_refuses_to_overwrite_a_blog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "blog"
    assert _init(data) == 0
    capsys.readouterr()
    assert _init(data) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"fedipub: error: {data} already holds a blog; refusing to overwrite it"


def test_init_with_a_separate_key_folder_keeps_an_existing_key_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys"
    assert _init(tmp_path / "one", "--keys", str(keys)) == 0
    first = (keys / KEY_FILES[0]).read_bytes()
    assert _init(tmp_path / "two", "--keys", str(keys)) == 0
    assert (keys / KEY_FILES[0]).read_bytes() == first
    assert "using the existing key pairs" in capsys.readouterr().err
    assert load_settings(tmp_path / "two", {}).key_folder == keys


def test_publish_update_unpublish_and_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "blog"
    _init(data)
    path = write_article(tmp_path / "src", "a.md", ARTICLE)
    assert main(["publish", "--data", str(data), str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "https://blog.example/posts/hello-world"
    assert out[0].startswith("created")
    path.write_text(ARTICLE.replace("first post", "first, edited post"), encoding="utf-8")
    assert main(["publish", "--data", str(data), str(path)]) == 0
    assert capsys.readouterr().out.startswith("updated")
    assert main(["articles", "--data", str(data)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["SLUG", "PUBLISHED", "UPDATED", "TITLE"]
    assert table[1].startswith("hello-world")
    assert main(["unpublish", "--data", str(data), "hello-world"]) == 0
    capsys.readouterr()
    assert main(["articles", "--data", str(data)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert main(["followers", "--data", str(data)]) == 0
    assert capsys.readouterr().out.split() == ["ACTOR", "STATE", "INBOX", "SINCE"]


def test_sync_makes_the_blog_match_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "blog"
    _init(data)
    folder = tmp_path / "posts"
    write_article(folder, "one.md", "---\ntitle: One\n---\nfirst")
    write_article(folder, "two.md", "---\ntitle: Two\n---\nsecond")
    assert main(["sync", "--data", str(data), str(folder)]) == 0
    assert (
        capsys.readouterr().out.splitlines()[-1] == "2 created, 0 updated, 0 deleted, 0 unchanged"
    )
    write_article(folder, "one.md", "---\ntitle: One\n---\nfirst, edited")
    (folder / "two.md").unlink()
    write_article(folder / "nested", "three.md", "---\ntitle: Three\n---\nthird")
    assert main(["sync", "--data", str(data), str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "1 created, 1 updated, 1 deleted, 0 unchanged"
    assert "deleted: https://blog.example/posts/two" in out


def test_sync_validates_every_file_before_changing_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "blog"
    _init(data)
    folder = tmp_path / "posts"
    write_article(folder, "good.md", "---\ntitle: Good\n---\nx")
    write_article(folder, "bad.md", "no front matter")
    assert main(["sync", "--data", str(data), str(folder)]) == 1
    assert "bad.md" in capsys.readouterr().err
    assert main(["articles", "--data", str(data)]) == 0
    assert "good" not in capsys.readouterr().out
    write_article(folder, "bad.md", "---\ntitle: Dup\nslug: good\n---\nx")
    assert main(["sync", "--data", str(data), str(folder)]) == 1
    assert "slug 'good'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["articles", "--data", "{tmp}/missing"], "no blog in"),
        (["publish", "--data", "{blog}", "{tmp}/nothing.md"], "no such file"),
        (["publish", "--data", "{blog}", "{tmp}/bad.md"], "front matter"),
        (["unpublish", "--data", "{blog}", "nope"], "no article with slug 'nope'"),
        (["sync", "--data", "{blog}", "{tmp}/not-a-folder"], "is not a folder"),
        (["init", "--data", "{tmp}/x", "--domain", "bad domain"], "not a host name"),
        (["serve", "--data", "{blog}", "--port", "{busy}"], "the port is in use"),
        (["serve", "--data", "{blog}", "--ssl-certfile", "c.pem"], "go together"),
    ],
)
def test_user_mistakes_are_one_line_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    blog = tmp_path / "blog"
    _init(blog)
    (tmp_path / "bad.md").write_text("no front matter", encoding="utf-8")
    capsys.readouterr()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        values = {"tmp": str(tmp_path), "blog": str(blog), "busy": str(busy.getsockname()[1])}
        code = main([part.format(**values) for part in argv])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("fedipub: error: ")
    assert message in err


def test_data_folder_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FEDIPUB_DATA", str(tmp_path / "blog"))
    assert main(["init", "--domain", "blog.example"]) == 0
    assert main(["articles"]) == 0
    monkeypatch.delenv("FEDIPUB_DATA")
    capsys.readouterr()
    assert main(["articles"]) == 1
    assert "FEDIPUB_DATA" in capsys.readouterr().err


def test_serve_refuses_world_readable_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blog = tmp_path / "blog"
    _init(blog)
    os.chmod(blog / "keys" / KEY_FILES[0], 0o644)
    capsys.readouterr()
    assert main(["serve", "--data", str(blog), "--port", "1"]) == 1
    assert "chmod 600" in capsys.readouterr().err


def test_serve_refuses_a_database_from_a_newer_release_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blog = tmp_path / "blog"
    _init(blog)
    with sqlite3.connect(blog / "fedipub.sqlite3") as db:
        db.execute("INSERT INTO schema_migrations VALUES ('9999_from_the_future', '')")
    capsys.readouterr()
    assert main(["serve", "--data", str(blog), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "downgrading is not supported" in err
