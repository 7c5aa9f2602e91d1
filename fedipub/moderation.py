"""The admin's decisions: comments approved, hidden or deleted, blocks that purge what is
stored, follow requests answered, and the author's own replies in the threads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedipub.activities import build_accept, build_create, build_reject, build_reply_note
from fedipub.actors import ActorDirectory
from fedipub.article_source import render_markdown
from fedipub.blog import Blog
from fedipub.errors import NotFoundError, SourceError
from fedipub.handlers.follows import follow_document
from fedipub.outbox import Outbox, new_activity_id
from fedipub.sanitize import to_mastodon_html
from fedipub.store import Store
from fedipub.store.moderation import Block
from fedipub.types import (
    BlockKind,
    Comment,
    CommentState,
    FollowState,
    Person,
    Visibility,
)


@dataclass(frozen=True)
class Moderator:
    store: Store
    blog: Blog
    outbox: Outbox
    actors: ActorDirectory

    async def set_comment_state(self, comment_id: str, state: CommentState) -> Comment:
        comment = await self.store.comments.find(comment_id)
        if comment is None:
            raise NotFoundError(f"no comment {comment_id}")
        async with self.store.transaction() as tx:
            await self.store.comments.set_state(tx, comment_id, state)
        return comment

    async def delete_comment(self, comment_id: str) -> None:
        if await self.store.comments.find(comment_id) is None:
            raise NotFoundError(f"no comment {comment_id}")
        async with self.store.transaction() as tx:
            await self.store.comments.remove(tx, comment_id)

    async def block(self, kind: BlockKind, value: str, now: datetime) -> int:
        """Block an actor, a domain or a keyword; what the actor or domain left here goes.
        Returns how many comments were purged."""
        value = value.strip()
        if kind is BlockKind.DOMAIN:
            value = value.lower().removeprefix("https://").removeprefix("http://").strip("/")
        if not value:
            raise SourceError("nothing to block")
        async with self.store.transaction() as tx:
            await self.store.moderation.add_block(tx, Block(kind, value, now))
            if kind is BlockKind.ACTOR:
                purged = await self.store.comments.remove_by_author(tx, value)
                await self.store.reactions.remove_by_actor(tx, value)
                await self.store.followers.remove(tx, value)
            elif kind is BlockKind.DOMAIN:
                purged = await self.store.comments.remove_by_domain(tx, value)
                await self.store.reactions.remove_by_domain(tx, value)
                await self.store.followers.remove_by_domain(tx, value)
            else:
                purged = 0
        return purged

    async def answer_follow(self, actor_id: str, *, accept: bool, now: datetime) -> None:
        follower = await self.store.followers.find(actor_id)
        if follower is None or follower.state is not FollowState.PENDING:
            raise NotFoundError(f"no pending follow request from {actor_id}")
        urls = self.blog.urls
        follow = follow_document(follower.follow_id, actor_id, urls.actor)
        activity_id = new_activity_id()
        build = build_accept if accept else build_reject
        async with self.store.transaction() as tx:
            if accept:
                await self.store.followers.set_state(tx, actor_id, FollowState.ACCEPTED)
            else:
                await self.store.followers.remove(tx, actor_id)
            await self.outbox.send(
                tx,
                build(urls, follow, activity_id),
                activity_id=activity_id,
                object_id=follower.follow_id,
                inboxes=[follower.inbox],
                now=now,
            )

    async def reply(self, comment_id: str, text: str, now: datetime) -> Comment:
        """The author answers a comment: a Note by the blog, in reply to it and mentioning
        its author, shown in the thread and delivered to the commenter and the followers."""
        parent = await self.store.comments.find(comment_id)
        if parent is None:
            raise NotFoundError(f"no comment {comment_id}")
        if not text.strip():
            raise SourceError("the reply is empty")
        article = await self.store.articles.find_by_id(parent.article_id)
        if article is None:
            raise NotFoundError("the comment's article is gone")
        urls = self.blog.urls
        reply_id = new_activity_id()
        body = to_mastodon_html(render_markdown(text))
        note = build_reply_note(
            self.blog.settings, urls, reply_id, parent=parent, body_html=body, published=now
        )
        author = Person(
            id=urls.actor,
            name=self.blog.settings.display_name,
            handle=self.blog.settings.handle,
            avatar=self.blog.settings.icon_url and urls.absolute(self.blog.settings.icon_url),
            url=urls.actor,
        )
        comment = Comment(
            id=note["id"],
            article_id=article.id,
            parent_id=parent.id,
            author=author,
            content_html=str(note["content"]),
            summary=None,
            sensitive=False,
            language=None,
            attachments=(),
            emojis=(),
            url=note["id"],
            visibility=Visibility.PUBLIC,
            state=CommentState.SHOWN,
            is_local=True,
            replies_collection=None,
            published=now,
            updated=None,
        )
        inboxes = [await self._inbox_of(parent.author.id)]
        activity_id = new_activity_id()
        async with self.store.transaction() as tx:
            await self.store.comments.insert(tx, comment, now)
            await self.outbox.send(
                tx,
                build_create(urls, note, activity_id),
                activity_id=activity_id,
                object_id=note["id"],
                inboxes=inboxes,
                now=now,
                in_outbox=True,
                to_followers=True,
            )
        return comment

    async def _inbox_of(self, actor_id: str) -> str:
        actor = await self.actors.get(actor_id)
        return actor.shared_inbox or actor.inbox
