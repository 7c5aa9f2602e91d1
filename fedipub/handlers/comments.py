"""Create: a reply to one of our articles, or to a comment under one, becomes a comment."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from fedipub.actors import person_of
from fedipub.errors import ForbiddenError
from fedipub.handlers.targets import find_reply_target
from fedipub.inbox import InboxContext, Result
from fedipub.parse import Activity, RemoteNote, parse_note
from fedipub.store import Store
from fedipub.store.moderation import MentionNote
from fedipub.types import (
    Comment,
    CommentAttachment,
    CommentState,
    InboxOutcome,
    Notification,
    Person,
)


def comment_of(
    note: RemoteNote, author: Person, article_id: int, parent_id: str | None, state: CommentState
) -> Comment:
    return Comment(
        id=note.id,
        article_id=article_id,
        parent_id=parent_id,
        author=author,
        content_html=note.content_html,
        summary=note.summary if note.sensitive or note.summary else None,
        sensitive=note.sensitive,
        language=note.language,
        attachments=tuple(
            CommentAttachment(a.url, a.media_type, a.name, a.kind) for a in note.attachments
        ),
        emojis=tuple((e.shortcode, e.url) for e in note.emojis),
        url=note.url,
        visibility=note.visibility,
        state=state,
        is_local=False,
        replies_collection=note.replies,
        published=note.published,
        updated=note.updated,
    )


async def note_of(ctx: InboxContext, activity: Activity) -> RemoteNote:
    """The activity's object as a note by the activity's actor; a bare id is fetched."""
    document = activity.object
    if document is None:
        if activity.object_id is None:
            raise ForbiddenError("the activity has no object")
        document = await ctx.fetcher.fetch_object(activity.object_id)
    note = parse_note(document)
    if note.attributed_to != activity.actor:
        raise ForbiddenError("the note is attributed to someone else than the actor")
    return note


def blocked_keyword(note: RemoteNote, keywords: list[str]) -> str | None:
    text = f"{note.summary or ''} {note.content_html}".lower()
    return next((word for word in keywords if word.lower() in text), None)


async def state_for(store: Store, mode: str, author_id: str) -> CommentState:
    """`moderation`: open shows at once; first-time holds an author's first comment; all
    holds every comment for the admin."""
    if mode == "all":
        return CommentState.PENDING
    if mode == "first-time" and not await store.comments.has_shown_comment_by(author_id):
        return CommentState.PENDING
    return CommentState.SHOWN


def _mentions_us(ctx: InboxContext, note: RemoteNote) -> bool:
    ours = ctx.blog.urls.actor
    return ours in note.to or ours in note.cc or any(m.href == ours for m in note.mentions)


async def _keep_as_mention(ctx: InboxContext, note: RemoteNote, author: Person) -> Result:
    async with ctx.store.transaction() as tx:
        await ctx.store.moderation.add_mention(
            tx,
            MentionNote(
                note.id,
                author.id,
                author.handle,
                note.content_html,
                note.url,
                note.visibility.value,
                ctx.now(),
            ),
        )
    notification = Notification(
        "mention", f"{author.handle} mentioned the blog", note.url, author.id
    )
    return Result(InboxOutcome.ACCEPTED, "kept for the admin as a mention", notification)


async def handle_create(ctx: InboxContext, activity: Activity) -> Result:
    note = await note_of(ctx, activity)
    target = await find_reply_target(ctx, note.in_reply_to)
    if target is None:
        if _mentions_us(ctx, note):
            author = person_of(await ctx.actors.get(activity.actor))
            return await _keep_as_mention(ctx, note, author)
        return Result(InboxOutcome.IGNORED, "not a reply to this blog")
    keyword = blocked_keyword(note, await ctx.store.moderation.keywords())
    if keyword is not None:
        return Result(InboxOutcome.REJECTED, f"contains the blocked keyword {keyword!r}")
    author = person_of(await ctx.actors.get(activity.actor))
    state = await state_for(ctx.store, ctx.blog.settings.moderation, author.id)
    comment = comment_of(note, author, target.article.id, target.parent_id, state)
    async with ctx.store.transaction() as tx:
        created = await ctx.store.comments.insert(tx, comment, ctx.now())
    if not created:
        return Result(InboxOutcome.DUPLICATE, "this comment is stored already")
    where = f"comment on {target.article.slug}"
    if not note.visibility.shown_publicly:
        return Result(InboxOutcome.HELD, f"{where}, {note.visibility.value}: for the admin only")
    notification = Notification(
        "comment", f"{author.handle} commented on {target.article.title}", note.url, author.id
    )
    if state is CommentState.PENDING:
        return Result(InboxOutcome.HELD, f"{where}, held for moderation", notification)
    return Result(InboxOutcome.ACCEPTED, where, notification)


def edited(existing: Comment, note: RemoteNote, now: datetime) -> Comment:
    """The comment after its author's edit: new content, same place in the thread."""
    fresh = comment_of(
        note, existing.author, existing.article_id, existing.parent_id, existing.state
    )
    return replace(fresh, updated=note.updated or now)
