"""Moving: `move` to a new account, `alias` for moving in, and `export` of followers and
comments. See fedipub/migration.py for why followers cannot be imported."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

from fedipub.blog import urls_for
from fedipub.commands.common import AddCommand, data_dir, run_with_services, settings_of
from fedipub.config import SETTINGS_FILE, Settings, load_settings, settings_to_toml
from fedipub.errors import ConfigError, SourceError
from fedipub.migration import (
    check_move_target,
    comments_document,
    follower_addresses,
    followers_csv,
    resolve_account,
    send_move,
    send_profile_update,
)
from fedipub.parse import RemoteActor
from fedipub.publishing import utcnow
from fedipub.services import Services

RESTART = "restart the server so that its actor shows it: systemctl restart fedipub"


def _save_settings(data: Path, **changes: Any) -> Settings:
    """Change settings in DIR/fedipub.toml (rewritten whole, comments lost), written to a new
    file then renamed, so a crash leaves the old file or the new one. Values from FEDIPUB_*
    variables stay out of the file."""
    updated = dataclasses.replace(load_settings(data, {}), **changes)
    path = data / SETTINGS_FILE
    staged = path.with_name(f"{SETTINGS_FILE}.new")
    staged.unlink(missing_ok=True)
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(settings_to_toml(updated))
    os.replace(staged, path)
    return load_settings(data, os.environ)


def _resolve(settings: Settings, account: str) -> RemoteActor:
    return run_with_services(settings, lambda svc: resolve_account(svc.fetcher, account))


def _announce_profile(settings: Settings) -> None:
    now = utcnow()
    run_with_services(
        settings,
        lambda svc: send_profile_update(svc.store, svc.outbox, svc.urls, svc.actor, now),
    )
    print("Update{Person} queued for every follower")


def cmd_move(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    target = _resolve(settings, args.to)
    check_move_target(urls_for(settings), target)  # before anything changes
    moved = _save_settings(data_dir(args), moved_to=target.id)
    now = utcnow()
    run_with_services(moved, lambda svc: send_move(svc.store, svc.outbox, svc.urls, target, now))
    print(f"moved to {target.handle} ({target.id}): Move queued for every follower")
    print(RESTART)
    return 0


def cmd_alias(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    current = settings.also_known_as
    if args.action == "add":
        actor_id = _resolve(settings, args.account).id
        if actor_id in current:
            raise ConfigError(f"{actor_id} is an alias already")
        aliases = (*current, actor_id)
    else:
        account = str(args.account)
        if account.startswith(("https://", "http://")):
            actor_id = account  # no lookup: the old server may be gone
        else:
            actor_id = _resolve(settings, account).id
        if actor_id not in current:
            raise ConfigError(f"{actor_id} is not an alias")
        aliases = tuple(alias for alias in current if alias != actor_id)
    _announce_profile(_save_settings(data_dir(args), also_known_as=aliases))
    print(f"alsoKnownAs: {', '.join(aliases) or '(none)'}")
    print(RESTART)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if args.what == "followers":

        async def addresses(svc: Services) -> tuple[list[str], list[str]]:
            return await follower_addresses(svc.store, svc.actors)

        found, unknown = run_with_services(settings, addresses)
        sys.stdout.write(followers_csv(found))
        for actor_id in unknown:
            print(f"fedipub: warning: {actor_id} could not be looked up; left out", file=sys.stderr)
        return 0
    if args.slug is None:
        raise SourceError("export comments needs the article's slug")

    async def comments(svc: Services) -> dict[str, Any]:
        article = await svc.store.articles.get(args.slug)
        found = await svc.store.comments.for_article(article.id, public_only=False)
        return comments_document(svc.urls, article, found)

    print(json.dumps(run_with_services(settings, comments), indent=2, ensure_ascii=False))
    return 0


def register(command: AddCommand) -> None:
    move = command("move", cmd_move, "move the blog's followers to a new account (Move)")
    move.add_argument("--to", required=True, help="the new account: @name@host")
    alias = command("alias", cmd_alias, "add or remove an account this blog is also (alsoKnownAs)")
    alias.add_argument("action", choices=("add", "remove"))
    alias.add_argument("account", help="@name@host, or an actor URL")
    export = command("export", cmd_export, "print followers (Mastodon CSV) or comments (JSON)")
    export.add_argument("what", choices=("followers", "comments"))
    export.add_argument("slug", nargs="?", help="the article, for comments")
