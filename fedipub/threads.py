"""An article's comments as threads: a tree of replies, sorted, depth-limited and paged.

Pure: the page renders what this returns. The data is remote and may be hostile, so a parent
that is missing (not stored, hidden, on another article) makes its reply a thread of its own,
and a parent chain that loops back on itself is cut rather than followed forever. Every walk
is iterative, so a chain of ten thousand replies cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from fedipub.types import Comment, CommentState

DEFAULT_MAX_DEPTH = 4


class SortOrder(enum.Enum):
    """How the top-level comments are ordered; replies are always oldest first."""

    OLDEST = "oldest"
    NEWEST = "newest"
    LIKED = "liked"

    @classmethod
    def parse(cls, value: str | None) -> SortOrder:
        """`?sort=` as an order. A link shared with a mangled or absent value is still a
        working page, so anything unknown means the default rather than an error."""
        try:
            return cls(value)
        except ValueError:
            return cls.OLDEST


@dataclass(frozen=True)
class ThreadNode:
    comment: Comment
    depth: int  # 0 for a top-level comment
    children: tuple[ThreadNode, ...]


def _chronological(comment: Comment) -> tuple[float, str]:
    # A timestamp rather than the datetime: one naive date among aware ones must not make
    # sorting raise TypeError.
    return (comment.published.timestamp(), comment.id)


def _top_level_key(
    order: SortOrder, likes: Mapping[str, int]
) -> Callable[[Comment], tuple[int, float, str]]:
    # (likes, date, id): equal dates fall back on the id, so the same data always renders in
    # the same order; among equally liked comments the oldest, which had longest to collect
    # likes, comes first.
    if order is SortOrder.NEWEST:
        return lambda c: (0, -c.published.timestamp(), c.id)
    if order is SortOrder.LIKED:
        return lambda c: (-likes.get(c.id, 0), c.published.timestamp(), c.id)
    return lambda c: (0, c.published.timestamp(), c.id)


def _on_page(comment: Comment) -> bool:
    """What the public may see: shown public or unlisted comments, and deleted ones as
    placeholders. The store already filters so; this keeps a caller's mistake off the page."""
    return comment.visibility.shown_publicly and comment.state in (
        CommentState.SHOWN,
        CommentState.DELETED,
    )


def _parents(by_id: Mapping[str, Comment]) -> dict[str, str | None]:
    """Each comment's parent among `by_id`, None for a thread's start. A parent outside the
    list starts a thread; so does every member of a loop (a → b → a), whose chain has no
    start."""
    parent = {cid: c.parent_id if c.parent_id in by_id else None for cid, c in by_id.items()}
    settled: set[str] = set()
    for start in by_id:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in settled and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = parent[node]
        if node is not None and node in on_path:
            for member in path[path.index(node) :]:
                parent[member] = None
        settled.update(path)
    return parent


def _children(
    by_id: Mapping[str, Comment], parent: Mapping[str, str | None]
) -> dict[str | None, list[Comment]]:
    children: dict[str | None, list[Comment]] = {}
    for cid, comment in by_id.items():
        children.setdefault(parent[cid], []).append(comment)
    for replies in children.values():
        replies.sort(key=_chronological)
    return children


def _visible(children: Mapping[str | None, list[Comment]]) -> set[str]:
    """Ids worth showing: every shown comment, and a deleted one only while a shown comment
    hangs below it (the placeholder keeps the thread readable; alone it says nothing)."""
    order: list[Comment] = []  # parents before their replies
    stack = list(children.get(None, ()))
    while stack:
        comment = stack.pop()
        order.append(comment)
        stack.extend(children.get(comment.id, ()))
    visible: set[str] = set()
    for comment in reversed(order):
        if comment.state is not CommentState.DELETED or any(
            reply.id in visible for reply in children.get(comment.id, ())
        ):
            visible.add(comment.id)
    return visible


def build_threads(
    comments: Sequence[Comment],
    *,
    order: SortOrder,
    max_depth: int = DEFAULT_MAX_DEPTH,
    like_counts: Mapping[str, int] | None = None,
) -> tuple[ThreadNode, ...]:
    """The comments as threads. Top-level comments follow `order`, replies are oldest first.
    Replies deeper than `max_depth` are flattened into the deepest level, in chronological
    order, so a long back-and-forth does not shrink into a sliver on a phone."""
    if max_depth < 1:
        raise ValueError("max_depth must be at least 1")
    by_id: dict[str, Comment] = {}
    for comment in comments:
        if _on_page(comment):
            by_id.setdefault(comment.id, comment)
    children = _children(by_id, _parents(by_id))
    visible = _visible(children)

    def replies(comment: Comment) -> list[Comment]:
        return [c for c in children.get(comment.id, ()) if c.id in visible]

    def descendants(comment: Comment) -> list[Comment]:
        found: list[Comment] = []
        stack = replies(comment)
        while stack:
            reply = stack.pop()
            found.append(reply)
            stack.extend(replies(reply))
        return sorted(found, key=_chronological)

    def node(comment: Comment, depth: int) -> ThreadNode:
        # Recursion stops at max_depth - 1, whose children take every deeper reply as leaves.
        if depth + 1 < max_depth:
            kids = tuple(node(reply, depth + 1) for reply in replies(comment))
        else:
            kids = tuple(ThreadNode(d, max_depth, ()) for d in descendants(comment))
        return ThreadNode(comment, depth, kids)

    top = [c for c in children.get(None, ()) if c.id in visible]
    top.sort(key=_top_level_key(order, like_counts or {}))
    return tuple(node(comment, 0) for comment in top)


def count_shown(nodes: Sequence[ThreadNode]) -> int:
    """The comments in the threads, deleted placeholders not counted."""
    count = 0
    stack = list(nodes)
    while stack:
        current = stack.pop()
        count += current.comment.state is not CommentState.DELETED
        stack.extend(current.children)
    return count


def page_threads(
    nodes: Sequence[ThreadNode], page: int, per_page: int
) -> tuple[tuple[ThreadNode, ...], bool]:
    """The top-level threads on `page` (from 1) and whether a later page has any. A thread is
    never split across pages."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    start = (max(page, 1) - 1) * per_page
    return tuple(nodes[start : start + per_page]), start + per_page < len(nodes)
