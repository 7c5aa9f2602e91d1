"""Admin pages for moderating: comments by state, followers and follow requests, blocks.

Every change goes through `Moderator`, as the command line's does; these routes only turn
forms into its calls and its outcomes into pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from fedipub.auth import Session
from fedipub.errors import FetchError, MalformedError, NotFoundError, SourceError
from fedipub.moderation import Moderator
from fedipub.routes.admin_guard import Form, action, page, problem, redirect
from fedipub.routes.admin_render import now_of, render_page
from fedipub.routes.common import page_number, services
from fedipub.types import Article, BlockKind, Comment, CommentState, FollowState

COMMENTS_PATH = "/admin/comments"
FOLLOWERS_PATH = "/admin/followers"
BLOCKS_PATH = "/admin/blocks"
TABS = {
    "pending": CommentState.PENDING,
    "shown": CommentState.SHOWN,
    "hidden": CommentState.HIDDEN,
}
LISTED = 200  # comments per tab, follow requests: the newest; older ones wait their turn


def moderator(request: Request) -> Moderator:
    svc = services(request)
    return Moderator(svc.store, svc.blog, svc.outbox, svc.actors)


def author_domain(comment: Comment) -> str:
    return (urlsplit(comment.author.id).hostname or "").lower()


def _tab(value: str | None) -> str:
    return value if value in TABS else "pending"


async def _comments_page(
    request: Request,
    session: Session,
    tab: str,
    *,
    error: str | None = None,
    status: int = 200,
    drafts: Mapping[str, str] | None = None,
) -> Response:
    """`drafts`: reply text by comment id, given back when sending it failed."""
    store = services(request).store
    listed = await store.comments.with_state([TABS[tab]], limit=LISTED)
    articles: dict[int, Article | None] = {}
    for comment in listed:
        if comment.article_id not in articles:
            articles[comment.article_id] = await store.articles.find_by_id(comment.article_id)
    counts = await store.admin.comment_counts()
    context = {
        "tab": tab,
        "tabs": [(name, counts[state]) for name, state in TABS.items()],
        "comments": listed,
        "articles": articles,
        "limit": LISTED,
        "error": error,
        "drafts": drafts or {},
    }
    return await render_page(
        request, session, "comments.html", context, status=status, current="comments"
    )


@page
async def comments(request: Request, session: Session) -> Response:
    return await _comments_page(request, session, _tab(request.query_params.get("state")))


CommentAction = Callable[[Moderator, Comment, datetime], Awaitable[None]]


async def _approve(moderator: Moderator, comment: Comment, now: datetime) -> None:
    await moderator.set_comment_state(comment.id, CommentState.SHOWN)


async def _hide(moderator: Moderator, comment: Comment, now: datetime) -> None:
    await moderator.set_comment_state(comment.id, CommentState.HIDDEN)


async def _delete(moderator: Moderator, comment: Comment, now: datetime) -> None:
    await moderator.delete_comment(comment.id)


async def _block_author(moderator: Moderator, comment: Comment, now: datetime) -> None:
    await moderator.block(BlockKind.ACTOR, comment.author.id, now)


async def _block_domain(moderator: Moderator, comment: Comment, now: datetime) -> None:
    await moderator.block(BlockKind.DOMAIN, author_domain(comment), now)


COMMENT_ACTIONS: dict[str, CommentAction] = {
    "approve": _approve,
    "hide": _hide,
    "delete": _delete,
    "block-author": _block_author,
    "block-domain": _block_domain,
}
_BLOCKS = frozenset({"block-author", "block-domain"})


@action
async def moderate_comment(request: Request, session: Session, form: Form) -> Response:
    name = form.get("action", "")
    handler = COMMENT_ACTIONS.get(name)
    if handler is None:
        raise MalformedError(f"no comment action {name!r}")
    comment = await services(request).store.comments.find(form.get("comment_id", ""))
    if comment is None:
        return await problem(request, session, 404, "That comment is gone.")
    if comment.is_local and name in _BLOCKS:
        return await problem(request, session, 400, "The blog's own replies cannot be blocked.")
    await handler(moderator(request), comment, now_of(request))
    return redirect(COMMENTS_PATH, state=_tab(form.get("state")), done=name)


@action
async def reply_to_comment(request: Request, session: Session, form: Form) -> Response:
    tab = _tab(form.get("state"))
    comment_id, text = form.get("comment_id", ""), form.get("text", "")
    try:
        await moderator(request).reply(comment_id, text, now_of(request))
    except (SourceError, NotFoundError) as exc:
        return await _comments_page(
            request, session, tab, error=str(exc), status=400, drafts={comment_id: text}
        )
    except FetchError as exc:
        # Nothing was stored: the commenter's inbox is looked up before the reply is written.
        error = f"The commenter's server could not be reached ({exc.reason}); nothing was sent."
        return await _comments_page(
            request, session, tab, error=error, status=502, drafts={comment_id: text}
        )
    return redirect(COMMENTS_PATH, state=tab, done="replied")


@page
async def followers(request: Request, session: Session) -> Response:
    svc = services(request)
    number = page_number(request) or 1
    pending = await svc.store.followers.page(1, LISTED, FollowState.PENDING)
    accepted = await svc.store.followers.page(number, svc.settings.page_size, FollowState.ACCEPTED)
    context = {
        "pending": pending,
        "accepted": accepted,
        "newer": f"{FOLLOWERS_PATH}?page={number - 1}" if number > 1 else None,
        "older": f"{FOLLOWERS_PATH}?page={number + 1}" if accepted.has_next else None,
        "manual": svc.settings.manually_approves_followers,
    }
    return await render_page(request, session, "followers.html", context, current="followers")


@action
async def answer_follow(request: Request, session: Session, form: Form) -> Response:
    decision = form.get("decision", "")
    if decision not in ("approve", "reject"):
        raise MalformedError(f"no follow decision {decision!r}")
    try:
        await moderator(request).answer_follow(
            form.get("actor", ""), accept=decision == "approve", now=now_of(request)
        )
    except NotFoundError:
        return await problem(request, session, 404, "That follow request was already answered.")
    return redirect(FOLLOWERS_PATH, done=f"follow-{decision}")


async def _blocks_page(
    request: Request, session: Session, *, error: str | None = None, status: int = 200
) -> Response:
    context = {
        "blocks": await services(request).store.moderation.blocks(),
        "kinds": [kind.value for kind in BlockKind],
        "error": error,
    }
    return await render_page(
        request, session, "blocks.html", context, status=status, current="blocks"
    )


@page
async def blocks(request: Request, session: Session) -> Response:
    return await _blocks_page(request, session)


def _kind(form: Form) -> BlockKind:
    try:
        return BlockKind(form.get("kind", ""))
    except ValueError:
        raise MalformedError("no such kind of block") from None


@action
async def add_block(request: Request, session: Session, form: Form) -> Response:
    try:
        await moderator(request).block(_kind(form), form.get("value", ""), now_of(request))
    except SourceError as exc:
        return await _blocks_page(request, session, error=str(exc), status=400)
    return redirect(BLOCKS_PATH, done="blocked")


@action
async def remove_block(request: Request, session: Session, form: Form) -> Response:
    await services(request).store.moderation.remove_block(_kind(form), form.get("value", ""))
    return redirect(BLOCKS_PATH, done="unblocked")
