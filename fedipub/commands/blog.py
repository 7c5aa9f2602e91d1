"""Commands for the blog itself: init, serve, publish, unpublish, sync, articles, followers."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from fedipub.actors import resolve_mentions
from fedipub.article_source import read_article_file
from fedipub.blog import load_blog, urls_for
from fedipub.commands.common import (
    AddCommand,
    data_dir,
    print_table,
    run_with_services,
    run_with_store,
    settings_of,
)
from fedipub.commands.publishing_progress import deliver_with_progress
from fedipub.config import SETTINGS_FILE, settings_from_mapping, settings_to_toml
from fedipub.errors import ConfigError
from fedipub.keys import KEY_FILES, generate_keyset, load_keyset, save_keyset
from fedipub.logs import logging_config
from fedipub.mentions import find_mentions
from fedipub.publishing import (
    Outcome,
    PublishResult,
    SyncReport,
    publish_article,
    read_folder,
    sync_articles,
    unpublish_article,
    utcnow,
)
from fedipub.services import Services
from fedipub.types import ArticleSource, MentionTarget


def cmd_init(args: argparse.Namespace) -> int:
    data = data_dir(args)
    if (data / SETTINGS_FILE).exists():
        raise ConfigError(f"{data} already holds a blog; refusing to overwrite it")
    keys_dir = Path(args.keys).resolve() if args.keys else None
    settings = settings_from_mapping(
        data.resolve(),
        {
            "domain": args.domain,
            "scheme": args.scheme,
            "username": args.username,
            "display_name": args.display_name or args.username,
            "summary": args.summary,
            "keys_dir": str(keys_dir) if keys_dir else None,
            "created": utcnow().isoformat(),
        },
    )
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = settings.key_folder
    existing = [name for name in KEY_FILES if (folder / name).exists()]
    if len(existing) == len(KEY_FILES):
        load_keyset(folder)  # the actor's identity is its keys: keep a complete, valid set
        print(f"using the existing key pairs in {folder}", file=sys.stderr)
    else:
        save_keyset(generate_keyset(), folder)
    # The settings may hold SMTP credentials and the database holds the inbox's history:
    # readable by the blog's own user only.
    previous = os.umask(0o077)
    try:
        run_with_store(settings, lambda store: store.ping())
        (data / SETTINGS_FILE).write_text(settings_to_toml(settings), encoding="utf-8")
    finally:
        os.umask(previous)
    print(f"created the blog {settings.handle} in {data}")
    print(urls_for(settings).actor)
    return 0


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = settings_of(args)
    load_keyset(settings.key_folder)  # refuse to start with missing or world-readable keys
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise ConfigError("--ssl-certfile and --ssl-keyfile go together")
    if not _port_free(args.host, args.port):
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: the port is in use")
    # Migrate here, once, so that a database from a newer release is one line, not a
    # traceback from inside the server's start-up.
    run_with_store(settings, lambda store: store.ping())
    os.environ["FEDIPUB_DATA"] = str(settings.data_dir)
    uvicorn.run(
        "fedipub.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        # The app believes X-Forwarded-* from `trusted_proxies` itself (fedipub/app.py), the
        # same under any ASGI server; uvicorn's own copy of that middleware would be a second.
        proxy_headers=False,
        server_header=False,
        log_level="info",
        log_config=logging_config(settings.log_format),
    )
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    source = read_article_file(Path(args.file))

    async def act(svc: Services) -> PublishResult:
        mentions, failed = await resolve_mentions(
            svc.actors, svc.fetcher, find_mentions(source.body_markdown)
        )
        for acct in failed:
            print(f"warning: cannot resolve @{acct}; left as text", file=sys.stderr)
        result = await publish_article(svc.store, svc.blog, source, now=utcnow(), mentions=mentions)
        if args.wait and result.activity is not None:
            counts = await deliver_with_progress(svc, result.activity.id)
            print(
                f"{counts.delivered} delivered, {counts.retrying} retrying later, "
                f"{counts.given_up} given up",
                file=sys.stderr,
            )
        return result

    result = run_with_services(settings, act)
    print(f"{result.outcome.value}: {result.article.title}")
    print(urls_for(settings).article(result.article.slug))
    return 0


def cmd_unpublish(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    blog = load_blog(settings)
    urls = blog.urls
    run_with_store(settings, lambda store: unpublish_article(store, blog, args.slug, now=utcnow()))
    print(f"deleted: {urls.article(args.slug)} now answers 410 Gone")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    folder = Path(args.folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder")
    sources = read_folder(folder)
    blog = load_blog(settings)
    urls = blog.urls

    async def act(svc: Services) -> SyncReport:
        async def resolve(source: ArticleSource) -> list[MentionTarget]:
            found, failed = await resolve_mentions(
                svc.actors, svc.fetcher, find_mentions(source.body_markdown)
            )
            for acct in failed:
                print(f"warning: {source.slug}: cannot resolve @{acct}", file=sys.stderr)
            return found

        return await sync_articles(svc.store, svc.blog, sources, now=utcnow(), resolve=resolve)

    report = run_with_services(settings, act)
    for label, slugs in (
        (Outcome.CREATED.value, report.created),
        (Outcome.UPDATED.value, report.updated),
        ("deleted", report.deleted),
    ):
        for slug in slugs:
            print(f"{label}: {urls.article(slug)}")
    print(
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.deleted)} deleted, {len(report.unchanged)} unchanged"
    )
    return 0


def cmd_articles(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    page = run_with_store(settings, lambda store: store.articles.page(1, 10_000))
    rows = [
        (
            a.slug,
            a.published.strftime("%Y-%m-%d %H:%M"),
            a.updated.strftime("%Y-%m-%d %H:%M") if a.updated else "",
            a.title,
        )
        for a in page.items
    ]
    print_table(("SLUG", "PUBLISHED", "UPDATED", "TITLE"), rows)
    return 0


def cmd_followers(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    page = run_with_store(settings, lambda store: store.followers.page(1, 100_000, state=None))
    rows = [
        (f.actor_id, f.state.value, f.shared_inbox or f.inbox, f.created.strftime("%Y-%m-%d"))
        for f in page.items
    ]
    print_table(("ACTOR", "STATE", "INBOX", "SINCE"), rows)
    return 0


def register(command: AddCommand) -> None:
    init = command("init", cmd_init, "create a blog: settings, database and key pairs")
    init.add_argument("--domain", required=True, help="HOST[:PORT] the blog is reached at")
    init.add_argument("--scheme", choices=("https", "http"), default="https")
    init.add_argument("--username", default="blog")
    init.add_argument("--display-name", default=None)
    init.add_argument("--summary", default="")
    init.add_argument("--keys", default=None, help="key folder (default: DIR/keys)")

    serve = command("serve", cmd_serve, "run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--ssl-certfile", default=None)
    serve.add_argument("--ssl-keyfile", default=None)
    serve.add_argument("--workers", type=int, default=1)

    publish = command("publish", cmd_publish, "publish or update an article from a Markdown file")
    publish.add_argument("file")
    publish.add_argument(
        "--wait", action="store_true", help="deliver now and show progress until done"
    )
    unpublish = command("unpublish", cmd_unpublish, "delete an article")
    unpublish.add_argument("slug")
    sync = command("sync", cmd_sync, "make the blog match a folder of Markdown files")
    sync.add_argument("folder")
    command("articles", cmd_articles, "list the articles")
    command("followers", cmd_followers, "list the followers")
