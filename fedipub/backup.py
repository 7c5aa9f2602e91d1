"""Backups of a blog as one `.tar.gz`, made while the server runs, and restoring one into an
empty folder.

An archive holds what the blog is: the settings, a consistent copy of the database, the key
pairs (the actor's identity: without them followers' servers reject everything we sign) with
the rotated-out ones, and the admin's `media/`, `templates/` and `static/`. Private keys stay
mode 0600 inside the archive, and the archive itself is created 0600.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

import tomli_w

from fedipub import __version__
from fedipub.config import DATABASE_FILE, SETTINGS_FILE, Settings, load_settings
from fedipub.errors import ConfigError
from fedipub.keys import load_keyset
from fedipub.store.ops import backup_database, check_integrity

MANIFEST = "fedipub-backup.json"
FORMAT = 1
KEYS = "keys"
FOLDERS = ("media", "templates", "static")
# Top-level names an archive may hold; anything else is refused on restore.
_MEMBERS = frozenset({MANIFEST, SETTINGS_FILE, DATABASE_FILE, KEYS, *FOLDERS})


@dataclass(frozen=True)
class Summary:
    files: int
    bytes: int


def _tar_info(name: str, size: int, mode: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode
    info.mtime = int(mtime)
    return info  # uid/gid 0, no names: a restore belongs to whoever runs it


def _files_under(folder: Path) -> Iterator[Path]:
    """Regular files only: a symlink in media/ could point anywhere (/etc/shadow)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _add_file(archive: tarfile.TarFile, path: Path, name: str, mode: int) -> int:
    info = _tar_info(name, path.stat().st_size, mode, path.stat().st_mtime)
    with path.open("rb") as source:
        archive.addfile(info, source)
    return info.size


def create_backup(settings: Settings, out: Path, *, now: datetime) -> Summary:
    """Write the archive to `out` (refusing to overwrite one)."""
    if out.exists():
        raise ConfigError(f"{out} exists already; refusing to overwrite it")
    load_keyset(settings.key_folder)  # a backup with unusable keys would restore nothing
    out.parent.mkdir(parents=True, exist_ok=True)
    files = total = 0
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".fedipub-backup-") as scratch:
        copy = Path(scratch) / DATABASE_FILE
        backup_database(settings.database_path, copy)
        partial = Path(scratch) / "archive.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            manifest = json.dumps(
                {"format": FORMAT, "fedipub": __version__, "created": now.isoformat()}
            ).encode()
            archive.addfile(
                _tar_info(MANIFEST, len(manifest), 0o644, now.timestamp()), io.BytesIO(manifest)
            )
            entries = [
                (settings.data_dir / SETTINGS_FILE, SETTINGS_FILE, 0o600),
                (copy, DATABASE_FILE, 0o600),
            ]
            keys = settings.key_folder
            entries += [
                (path, f"{KEYS}/{path.relative_to(keys).as_posix()}", 0o600)
                for path in _files_under(keys)
                if path.suffix == ".pem"
            ]
            for folder in FOLDERS:
                root = settings.data_dir / folder
                if root.is_dir():
                    entries += [
                        (path, f"{folder}/{path.relative_to(root).as_posix()}", 0o644)
                        for path in _files_under(root)
                    ]
            for path, name, mode in entries:
                total += _add_file(archive, path, name, mode)
                files += 1
        os.replace(partial, out)
    return Summary(files, total)


def _checked_name(member: tarfile.TarInfo) -> PurePosixPath:
    """The member's path, refused unless it is a plain file or folder under one of the names
    a backup holds: no absolute paths, no `..`, no links or devices (a crafted archive
    would otherwise write outside the target, CVE-2007-4559)."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts or not name.parts:
        raise ConfigError(f"the archive holds an unsafe path: {member.name!r}")
    if name.parts[0] not in _MEMBERS:
        raise ConfigError(f"the archive holds {member.name!r}, which no backup has")
    if not (member.isfile() or member.isdir()):
        raise ConfigError(f"the archive holds a link or device: {member.name!r}")
    return name


def _forget_keys_dir(settings_file: Path) -> None:
    """A backup of a blog whose keys lived elsewhere (`keys_dir`) restores them into
    NEWDIR/keys: the setting has to go, or the restored blog would look in the old place."""
    values = tomllib.loads(settings_file.read_text(encoding="utf-8"))
    if values.pop("keys_dir", None) is not None:
        settings_file.write_text(tomli_w.dumps(values), encoding="utf-8")


def _open_archive(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise ConfigError(f"{path} is not a fedipub backup: {exc}") from None


def restore_backup(archive_path: Path, target: Path) -> Summary:
    """Unpack into `target`, which must not exist or be empty, then check what was restored:
    the settings load, the keys load, the database is sound."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} is not an empty folder; restore into a new one")
    with _open_archive(archive_path) as archive:
        members = [(member, _checked_name(member)) for member in archive.getmembers()]
        names = {str(name) for _, name in members}
        if len(names) != len(members):
            raise ConfigError(f"{archive_path} names some file twice; refusing it")
        if MANIFEST not in names or SETTINGS_FILE not in names or DATABASE_FILE not in names:
            raise ConfigError(f"{archive_path} lacks the manifest, the settings or the database")
        manifest = archive.extractfile(MANIFEST)
        assert manifest is not None
        if json.loads(manifest.read()).get("format") != FORMAT:
            raise ConfigError(f"{archive_path} is a backup format this fedipub cannot read")
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        files = total = 0
        for member, name in members:
            path = target.joinpath(*name.parts)
            if str(name) == MANIFEST:
                continue  # about the archive, not part of the blog
            if member.isdir():
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
                continue
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            private = name.parts[0] in (KEYS, SETTINGS_FILE, DATABASE_FILE)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out)
            total += member.size
            files += 1
    _forget_keys_dir(target / SETTINGS_FILE)
    settings = load_settings(target, {})
    load_keyset(settings.key_folder)
    problems = check_integrity(settings.database_path)
    if problems:
        raise ConfigError(f"the restored database is damaged: {'; '.join(problems[:3])}")
    return Summary(files, total)
