"""Moderating from the command line: comments, follow requests, blocks, the inbox's log,
mentions and reports, and the author's replies."""

from __future__ import annotations

import argparse

from fedipub.commands.common import AddCommand, print_table, run_with_services, settings_of
from fedipub.errors import SourceError
from fedipub.moderation import Moderator
from fedipub.publishing import utcnow
from fedipub.services import Services
from fedipub.types import BlockKind, CommentState

_STATES = {
    "approve": CommentState.SHOWN,
    "show": CommentState.SHOWN,
    "hide": CommentState.HIDDEN,
    "reject": CommentState.HIDDEN,
}


def _moderator(svc: Services) -> Moderator:
    return Moderator(svc.store, svc.blog, svc.outbox, svc.actors)


def cmd_comments(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if args.action is None:
        states = (
            [CommentState.PENDING]
            if args.pending
            else [CommentState.SHOWN, CommentState.PENDING, CommentState.HIDDEN]
        )

        async def listing(svc: Services) -> list[tuple[str, ...]]:
            comments = await svc.store.comments.with_state(states)
            return [
                (
                    c.id,
                    c.state.value,
                    c.visibility.value,
                    c.author.handle,
                    c.published.strftime("%Y-%m-%d %H:%M"),
                )
                for c in comments
            ]

        rows = run_with_services(settings, listing)
        print_table(("ID", "STATE", "VISIBILITY", "AUTHOR", "PUBLISHED"), rows)
        return 0
    if args.comment_id is None:
        raise SourceError(f"comments {args.action} needs a comment id")

    async def act(svc: Services) -> None:
        moderator = _moderator(svc)
        if args.action == "delete":
            await moderator.delete_comment(args.comment_id)
        else:
            await moderator.set_comment_state(args.comment_id, _STATES[args.action])

    run_with_services(settings, act)
    print(f"{args.action}: {args.comment_id}")
    return 0


def cmd_follow_requests(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    accept = args.action == "approve"

    async def act(svc: Services) -> None:
        await _moderator(svc).answer_follow(args.actor, accept=accept, now=utcnow())

    run_with_services(settings, act)
    print(f"{'accepted' if accept else 'rejected'}: {args.actor}")
    return 0


def cmd_block(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    kind = BlockKind(args.kind)

    async def act(svc: Services) -> int:
        return await _moderator(svc).block(kind, args.value, utcnow())

    purged = run_with_services(settings, act)
    print(f"blocked {kind.value} {args.value}; {purged} comment(s) removed")
    return 0


def cmd_unblock(args: argparse.Namespace) -> int:
    settings = settings_of(args)

    async def act(svc: Services) -> bool:
        return await svc.store.moderation.remove_block(BlockKind(args.kind), args.value)

    if not run_with_services(settings, act):
        raise SourceError(f"{args.kind} {args.value} is not blocked")
    print(f"unblocked {args.kind} {args.value}")
    return 0


def cmd_blocks(args: argparse.Namespace) -> int:
    settings = settings_of(args)

    async def act(svc: Services) -> list[tuple[str, ...]]:
        return [
            (b.kind.value, b.value, b.created.strftime("%Y-%m-%d"))
            for b in await svc.store.moderation.blocks()
        ]

    print_table(("KIND", "VALUE", "SINCE"), run_with_services(settings, act))
    return 0


def cmd_inbox_log(args: argparse.Namespace) -> int:
    settings = settings_of(args)

    async def act(svc: Services) -> list[tuple[str, ...]]:
        entries = await svc.store.inbox_log.recent(args.limit, search=args.search)
        return [
            (
                e.received.strftime("%Y-%m-%d %H:%M:%S"),
                e.outcome.value,
                e.activity_type or "-",
                e.actor or "-",
                e.reason,
            )
            for e in entries
        ]

    print_table(("RECEIVED", "OUTCOME", "TYPE", "ACTOR", "WHY"), run_with_services(settings, act))
    return 0


def cmd_mentions(args: argparse.Namespace) -> int:
    settings = settings_of(args)

    async def act(svc: Services) -> list[tuple[str, ...]]:
        mentions = await svc.store.moderation.mentions()
        reports = await svc.store.moderation.reports()
        return [
            *(
                (m.received.strftime("%Y-%m-%d"), "mention", m.author_handle, m.url)
                for m in mentions
            ),
            *(
                (r.received.strftime("%Y-%m-%d"), "report", r.actor_id, r.content or "-")
                for r in reports
            ),
        ]

    print_table(("RECEIVED", "KIND", "FROM", "WHAT"), run_with_services(settings, act))
    return 0


def cmd_reply(args: argparse.Namespace) -> int:
    settings = settings_of(args)

    async def act(svc: Services) -> str:
        comment = await _moderator(svc).reply(args.comment_id, args.text, utcnow())
        return comment.id

    print(run_with_services(settings, act))
    return 0


def cmd_fetch_replies(args: argparse.Namespace) -> int:
    settings = settings_of(args)

    async def act(svc: Services) -> int:
        return await svc.crawler.crawl()

    print(f"{run_with_services(settings, act)} new comment(s) found in replies collections")
    return 0


def register(command: AddCommand) -> None:
    comments = command("comments", cmd_comments, "list and moderate comments")
    comments.add_argument(
        "action", nargs="?", choices=("approve", "reject", "hide", "show", "delete")
    )
    comments.add_argument("comment_id", nargs="?")
    comments.add_argument("--pending", action="store_true", help="only those held for approval")
    requests = command("follow-requests", cmd_follow_requests, "answer a pending follow request")
    requests.add_argument("action", choices=("approve", "reject"))
    requests.add_argument("actor", help="the follower's actor URL")
    block = command("block", cmd_block, "block an actor, a domain or a keyword (purges)")
    block.add_argument("kind", choices=[k.value for k in BlockKind])
    block.add_argument("value")
    unblock = command("unblock", cmd_unblock, "lift a block")
    unblock.add_argument("kind", choices=[k.value for k in BlockKind])
    unblock.add_argument("value")
    command("blocks", cmd_blocks, "list the blocks")
    log = command("inbox-log", cmd_inbox_log, "what the inbox received and decided, and why")
    log.add_argument("--limit", type=int, default=50)
    log.add_argument("--search", default=None, help="only entries whose id, actor or reason match")
    command("mentions", cmd_mentions, "mentions of the blog and reports, kept for the admin")
    command(
        "fetch-replies",
        cmd_fetch_replies,
        "read recent comments' replies collections for replies that never reached the inbox",
    )
    reply = command("reply", cmd_reply, "reply to a comment as the blog (federated)")
    reply.add_argument("comment_id")
    reply.add_argument("text")
