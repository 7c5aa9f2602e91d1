"""`fedipub doctor`: is this blog fit to federate? Each check says OK or FAIL, and how to fix.

The local checks read files only (the database is inspected, never migrated). The public
checks fetch the blog from its public URL through the guarded client, exactly as a remote
server would: DNS, TLS, the proxy and the app all have to work for them to pass.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from fedipub.client import GuardedClient
from fedipub.config import Settings
from fedipub.errors import ConfigError, FetchError, StoreError, UnsafeURLError
from fedipub.fetch import Fetcher
from fedipub.keys import KeySet, expired_keys, load_keyset, public_pem
from fedipub.store.ops import inspect_database
from fedipub.urls import Urls
from fedipub.vocab import JRD_JSON

# SQLite needs room to grow, and a backup needs a copy of the database beside it.
MIN_FREE_BYTES = 500 * 1024 * 1024


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_keys(settings: Settings, now: datetime) -> tuple[list[Check], KeySet | None]:
    folder = settings.key_folder
    try:
        keys = load_keyset(folder)
    except ConfigError as exc:
        text = str(exc)
        if "readable by others" in text:
            fix = f"chmod 600 {folder}/*.pem"
        else:
            fix = (
                f"restore {folder} from a backup (fedipub restore); new keys would be a new "
                "identity that followers' servers do not know"
            )
        return [Check("keys", False, text, fix)], None
    checks = [
        Check("keys", True, f"the three key pairs in {folder} load; none is readable by others")
    ]
    expired = expired_keys(folder, now, settings.key_grace_days)
    if expired:
        checks.append(
            Check(
                "old keys",
                False,
                f"{len(expired)} rotated-out key(s) kept past key_grace_days "
                f"({settings.key_grace_days})",
                f"fedipub keys prune --data {settings.data_dir}",
            )
        )
    return checks, keys


def check_database(settings: Settings) -> tuple[list[Check], str | None]:
    """Integrity and migrations; also returns the latest article's slug, for the public
    checks."""
    data = settings.data_dir
    try:
        report = inspect_database(settings.database_path)
    except StoreError as exc:
        fix = f"restore a backup: fedipub restore ARCHIVE --data NEWDIR (then point {data} at it)"
        return [Check("database", False, str(exc), fix)], None
    checks = []
    if report.problems:
        checks.append(
            Check(
                "database",
                False,
                f"integrity_check: {'; '.join(report.problems[:3])}",
                "stop fedipub, then restore the latest backup: fedipub restore ARCHIVE "
                "--data NEWDIR",
            )
        )
    else:
        checks.append(Check("database", True, "integrity_check ok"))
    schema = report.schema
    if schema.unknown:
        checks.append(
            Check(
                "migrations",
                False,
                f"migrated by a newer fedipub ({', '.join(schema.unknown)})",
                "install that release again, or restore a backup made with this one",
            )
        )
    elif schema.pending:
        checks.append(
            Check(
                "migrations",
                False,
                f"{len(schema.pending)} pending: {', '.join(schema.pending)}",
                f"fedipub migrate --data {data} (fedipub serve also migrates when it starts)",
            )
        )
    else:
        last = schema.applied[-1] if schema.applied else "none"
        checks.append(Check("migrations", True, f"up to date ({last})"))
    return checks, report.latest_article


def check_disk(settings: Settings) -> Check:
    free = shutil.disk_usage(settings.data_dir).free
    database = settings.database_path.stat().st_size if settings.database_path.exists() else 0
    needed = max(MIN_FREE_BYTES, 2 * database)
    detail = f"{free // 2**20} MiB free in {settings.data_dir}"
    if free < needed:
        fix = f"free {needed // 2**20} MiB or more there (old backups; journalctl --vacuum-size)"
        return Check("disk", False, detail, fix)
    return Check("disk", True, detail)


def _unreachable(settings: Settings, exc: FetchError) -> str:
    if isinstance(exc, UnsafeURLError):
        return (
            f"remote servers refuse it too: {settings.domain} must resolve to a public address "
            'and be served over https (scheme = "https")'
        )
    return (
        f"check DNS for {settings.domain}, the TLS certificate, and that the proxy runs and "
        "forwards to fedipub (systemctl status nginx fedipub)"
    )


async def check_public(
    settings: Settings,
    urls: Urls,
    client: GuardedClient,
    fetcher: Fetcher | None,
    keys: KeySet | None,
    latest_article: str | None,
) -> list[Check]:
    """WebFinger, the actor (its key must be ours) and the latest article, fetched through
    the public URL. `fetcher` signs the article's fetch (needed in secure mode); None when
    the keys are unusable."""
    resource = quote(f"acct:{settings.username}@{settings.domain}", safe=":@")
    webfinger = f"{urls.base}/.well-known/webfinger?resource={resource}"
    try:
        _, jrd = await client.fetch_json(webfinger, accept=JRD_JSON)
    except FetchError as exc:
        return [Check("webfinger", False, str(exc), _unreachable(settings, exc))]
    links = [link for link in jrd.get("links", []) if isinstance(link, dict)]
    named = {link.get("href") for link in links if link.get("rel") == "self"}
    if named != {urls.actor}:
        detail = f"names {named or 'no actor'}, not {urls.actor}"
        fix = "the proxy must pass the Host header on, and `domain` must be the public host"
        return [Check("webfinger", False, detail, fix)]
    checks = [Check("webfinger", True, f"{settings.handle} → {urls.actor}")]
    try:
        _, actor = await client.fetch_json(urls.actor)
    except FetchError as exc:
        return [*checks, Check("actor", False, str(exc), _unreachable(settings, exc))]
    key = actor.get("publicKey")
    served = str(key.get("publicKeyPem", "")).strip() if isinstance(key, dict) else ""
    if keys is None:
        checks.append(Check("actor", False, "served, but the local keys are unusable", "see keys"))
    elif served != public_pem(keys.blog_rsa.public_key()).strip():
        checks.append(
            Check(
                "actor",
                False,
                "the public key served is not the local key",
                "restart fedipub after a key rotation or restore (systemctl restart fedipub), "
                "and check that the proxy reaches this server",
            )
        )
    else:
        checks.append(Check("actor", True, "served with the local public key"))
    if latest_article is None:
        return [*checks, Check("article", True, "none published yet")]
    url = urls.article(latest_article)
    try:
        if fetcher is not None:
            document = await fetcher.fetch_object(url)
        else:
            _, document = await client.fetch_json(url)
    except FetchError as exc:
        return [*checks, Check("article", False, str(exc), _unreachable(settings, exc))]
    if document.get("attributedTo") != urls.actor:
        fix = "the proxy must not cache by URL alone: include Accept in the cache key"
        return [*checks, Check("article", False, f"{url} is not the blog's Note", fix)]
    return [*checks, Check("article", True, f"{url} served as ActivityPub")]
