"""An article's comments and reactions, as the page and the AS2 collections show them."""

from __future__ import annotations

from dataclasses import dataclass

from fedipub.store import Store
from fedipub.types import Article, Comment, CommentState, Reaction, ReactionKind
from fedipub.urls import Urls

COLLECTIONS = ("replies", "likes", "shares", "context")


@dataclass(frozen=True)
class Interactions:
    comments: tuple[Comment, ...]  # public ones, oldest first, deleted placeholders included
    reactions: tuple[Reaction, ...]

    def shown(self) -> list[Comment]:
        return [c for c in self.comments if c.state is CommentState.SHOWN]

    def of_kind(self, kind: ReactionKind) -> list[Reaction]:
        return [r for r in self.reactions if r.kind is kind]

    def counts(self) -> dict[str, int]:
        return {
            "replies": sum(1 for c in self.shown() if c.parent_id is None),
            "likes": len(self.of_kind(ReactionKind.LIKE)),
            "shares": len(self.of_kind(ReactionKind.ANNOUNCE)),
        }

    def items(self, urls: Urls, article: Article, collection: str) -> list[str]:
        """`replies`: the direct replies; `likes`: who liked; `shares`: the Announces;
        `context` (FEP-7888): the whole conversation, the article first."""
        if collection == "replies":
            return [c.id for c in self.shown() if c.parent_id is None]
        if collection == "likes":
            return [r.actor.id for r in self.of_kind(ReactionKind.LIKE)]
        if collection == "shares":
            return [r.activity_id for r in self.of_kind(ReactionKind.ANNOUNCE)]
        return [urls.article(article.slug), *(c.id for c in self.shown())]


async def load_interactions(store: Store, article: Article) -> Interactions:
    comments = await store.comments.for_article(article.id)
    reactions = await store.reactions.for_article(article.id)
    return Interactions(tuple(comments), tuple(reactions))
