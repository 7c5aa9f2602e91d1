"""`fedipub backup` while the blog serves, `fedipub restore` into a new folder, and a server
started from the restored folder serving the same blog; archives that must be refused."""

from __future__ import annotations

import io
import stat
import tarfile
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fedipub.app import create_app
from fedipub.cli import main
from fedipub.config import load_settings
from fedipub.keys import KEY_FILES, KeySet
from tests.blogs import make_blog
from tests.federation.worlds import running_world
from tests.servers import serve

AS2 = {"Accept": "application/activity+json"}


@pytest.fixture(scope="module")
def peer_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_a_backup_made_while_serving_restores_the_same_blog(
    tmp_path: Path, keyset: KeySet, peer_key: rsa.RSAPrivateKey
) -> None:
    archive = tmp_path / "backups" / "blog.tar.gz"
    with running_world(tmp_path, keyset, peer_key) as world:
        assert world.send(world.follow()).status_code == 202
        note = world.note(world.alice, world.article_url(), "<p>Restored, I hope</p>")
        assert world.send(world.wrap("Create", world.alice, note)).status_code == 202
        (world.blog.data_dir / "media").mkdir()
        (world.blog.data_dir / "media" / "cat.jpg").write_bytes(b"a cat")
        actor = httpx.get(f"{world.base}/users/blog", headers=AS2).json()
        # The server holds the database open: recent writes are still in the WAL, which a
        # copy of the database file alone would miss.
        wal = world.blog.database_path.with_name("fedipub.sqlite3-wal")
        assert wal.stat().st_size > 0
        assert main(["backup", "--data", str(world.blog.data_dir), str(archive)]) == 0

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as members:
        modes = {m.name: stat.S_IMODE(m.mode) for m in members.getmembers()}
    assert {modes[f"keys/{name}"] for name in KEY_FILES} == {0o600}
    assert modes["media/cat.jpg"] == 0o644

    restored = tmp_path / "restored"
    assert main(["restore", str(archive), "--data", str(restored)]) == 0
    for name in KEY_FILES:
        assert stat.S_IMODE((restored / "keys" / name).stat().st_mode) == 0o600
    settings = load_settings(restored, {})
    with serve(create_app(settings)) as base:
        page = httpx.get(f"{base}/posts/hello-world").text
        followers = httpx.get(f"{base}/users/blog/followers", headers=AS2).json()
        restored_actor = httpx.get(f"{base}/users/blog", headers=AS2).json()
        media = httpx.get(f"{base}/media/cat.jpg")
    assert "Hello &lt;World&gt;" in page
    assert "Restored, I hope" in page
    assert followers["totalItems"] == 1
    assert restored_actor["publicKey"] == actor["publicKey"]
    assert restored_actor["assertionMethod"] == actor["assertionMethod"]
    assert media.content == b"a cat"


def test_backup_refuses_to_overwrite_an_archive(
    tmp_path: Path, keyset: KeySet, capsys: pytest.CaptureFixture[str]
) -> None:
    blog = make_blog(tmp_path / "data", keyset)
    existing = tmp_path / "old.tar.gz"
    existing.write_bytes(b"keep me")
    assert main(["backup", "--data", str(blog.data_dir), str(existing)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"fedipub: error: {existing} exists already; refusing to overwrite it"
    )
    assert existing.read_bytes() == b"keep me"


def _archive(path: Path, members: list[tarfile.TarInfo]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for member in members:
            data = b"x" * member.size
            archive.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 1
    return info


def _link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


@pytest.mark.parametrize(
    ("members", "error"),
    [
        ([_file("../escaped")], "the archive holds an unsafe path: '../escaped'"),
        ([_file("/etc/cron.d/evil")], "the archive holds an unsafe path: '/etc/cron.d/evil'"),
        ([_file("media/../../escaped")], "the archive holds an unsafe path:"),
        ([_link("keys/blog-rsa.pem", "/etc/shadow")], "the archive holds a link or device:"),
        ([_file("bin/sh")], "the archive holds 'bin/sh', which no backup has"),
        ([_file("media/a.jpg")], "lacks the manifest, the settings or the database"),
    ],
)
def test_restore_refuses_archives_that_reach_outside_or_are_not_backups(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    members: list[tarfile.TarInfo],
    error: str,
) -> None:
    archive = _archive(tmp_path / "crafted.tar.gz", members)
    target = tmp_path / "nested" / "target"
    assert main(["restore", str(archive), "--data", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert error in err
    assert not (tmp_path / "escaped").exists()
    assert not target.exists()


def test_restore_refuses_a_folder_in_use_and_a_file_that_is_no_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "fedipub.toml").write_text("domain = 'blog.example'")
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not gzip")
    assert main(["restore", str(garbage), "--data", str(busy)]) == 1
    assert "is not an empty folder; restore into a new one" in capsys.readouterr().err
    assert main(["restore", str(garbage), "--data", str(tmp_path / "new")]) == 1
    assert f"{garbage} is not a fedipub backup" in capsys.readouterr().err


def test_keys_kept_outside_the_data_folder_are_restored_inside_it(
    tmp_path: Path, keyset: KeySet
) -> None:
    blog = make_blog(tmp_path / "data", keyset, keys_dir=str(tmp_path / "elsewhere"))
    assert main(["articles", "--data", str(blog.data_dir)]) == 0  # creates the database
    archive = tmp_path / "blog.tar.gz"
    assert main(["backup", "--data", str(blog.data_dir), str(archive)]) == 0
    assert main(["restore", str(archive), "--data", str(tmp_path / "new")]) == 0
    restored = load_settings(tmp_path / "new", {})
    assert restored.keys_dir is None
    assert restored.key_folder == tmp_path / "new" / "keys"
    for name in KEY_FILES:
        assert (restored.key_folder / name).read_bytes() == (blog.key_folder / name).read_bytes()
