"""Operating a blog: doctor, migrate, backup, restore, and key rotation."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path

from fedipub.backup import create_backup, restore_backup
from fedipub.blog import urls_for
from fedipub.client import ClientSettings, GuardedClient
from fedipub.commands.common import (
    AddCommand,
    data_dir,
    run_with_services,
    run_with_store,
    settings_of,
)
from fedipub.config import Settings, load_settings
from fedipub.doctor import Check, check_database, check_disk, check_keys, check_public
from fedipub.errors import ConfigError
from fedipub.fetch import Fetcher
from fedipub.keys import BLOG_RSA_FILE, KeySet, expired_keys, load_keyset, rotate_blog_rsa
from fedipub.migration import send_profile_update
from fedipub.publishing import utcnow
from fedipub.services import user_agent
from fedipub.signed_http import FormatMemory, SignedHttp
from fedipub.store.ops import schema_state


async def _public_checks(
    settings: Settings, keys: KeySet | None, latest_article: str | None
) -> list[Check]:
    urls = urls_for(settings)
    client = GuardedClient(
        ClientSettings(
            user_agent=user_agent(settings),
            allow_private_addresses=settings.allow_private_addresses,
        )
    )
    fetcher = None
    if keys is not None:
        http = SignedHttp(client, FormatMemory(), clock=time.time)
        fetcher = Fetcher(http, keys, urls, allow_private=settings.allow_private_addresses)
    try:
        return await check_public(settings, urls, client, fetcher, keys, latest_article)
    finally:
        await client.aclose()


def _print_check(check: Check) -> None:
    print(f"{'OK' if check.ok else 'FAIL':<5} {check.name}: {check.detail}")
    if check.fix:
        print(f"      fix: {check.fix}")


def cmd_doctor(args: argparse.Namespace) -> int:
    data = data_dir(args)
    try:
        settings = load_settings(data, os.environ)
    except ConfigError as exc:
        _print_check(Check("settings", False, str(exc), f"fix {data}/fedipub.toml"))
        return 1
    checks = [Check("settings", True, f"{settings.handle} at {settings.base_url}")]
    key_checks, keys = check_keys(settings, utcnow())
    database_checks, latest = check_database(settings)
    checks += [*key_checks, *database_checks, check_disk(settings)]
    checks += asyncio.run(_public_checks(settings, keys, latest))
    for check in checks:
        _print_check(check)
    return 0 if all(check.ok for check in checks) else 1


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    pending = schema_state(settings.database_path).pending
    # Opening the store applies what is missing, or refuses a database from a newer release.
    run_with_store(settings, lambda store: store.ping())
    for name in pending:
        print(f"applied: {name}")
    if not pending:
        print("the database is up to date")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    out = Path(args.archive)
    summary = create_backup(settings, out, now=utcnow())
    print(f"backed up {settings.handle}: {summary.files} files, {summary.bytes} bytes, in {out}")
    print("it holds the private keys (mode 0600): keep it as safe as the server")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    target = data_dir(args)
    summary = restore_backup(Path(args.archive), target)
    print(f"restored {summary.files} files into {target}")
    print(f"start it with: fedipub serve --data {target}")
    return 0


def _prune(settings: Settings) -> int:
    expired = expired_keys(settings.key_folder, utcnow(), settings.key_grace_days)
    for key in expired:
        key.path.unlink()
        print(f"deleted {key.path}: past the {settings.key_grace_days}-day grace period")
    return len(expired)


def cmd_keys(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if args.action == "rotate":
        load_keyset(settings.key_folder)  # every key sound before one changes
        now = utcnow()
        kept = rotate_blog_rsa(settings.key_folder, now)
        # Built from the new key: followers' servers replace the key they cached.
        run_with_services(
            settings,
            lambda svc: send_profile_update(svc.store, svc.outbox, svc.urls, svc.actor, now),
        )
        until = kept.retired + timedelta(days=settings.key_grace_days)
        print(f"new key: {settings.key_folder / BLOG_RSA_FILE}")
        print(f"old key: {kept.path} (kept until {until:%Y-%m-%d})")
        print("Update{Person} queued for every follower")
        print(
            "restart the server and the worker now, they sign with the key they started with:"
            " systemctl restart fedipub fedipub-worker"
        )
    if not _prune(settings) and args.action == "prune":
        print(f"no rotated-out key is older than {settings.key_grace_days} days")
    return 0


def register(command: AddCommand) -> None:
    command("doctor", cmd_doctor, "check settings, keys, database, disk and the public URL")
    command("migrate", cmd_migrate, "apply the database migrations this release brings")
    backup = command("backup", cmd_backup, "archive the blog (database, keys, files) while it runs")
    backup.add_argument("archive", help="the .tar.gz to write")
    restore = command("restore", cmd_restore, "unpack a backup into an empty --data folder")
    restore.add_argument("archive")
    keys = command("keys", cmd_keys, "rotate the blog's signing key, or prune rotated-out ones")
    keys.add_argument("action", choices=("rotate", "prune"))
