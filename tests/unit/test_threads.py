"""Comments into threads: what order a reader sees them in, and what hostile data cannot do."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from fedipub.threads import SortOrder, ThreadNode, build_threads, count_shown, page_threads
from fedipub.types import Comment, CommentState, Person, Visibility

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BOB = Person(
    "https://social.example/users/bob", "Bob", "@bob@social.example", None, "https://x/@bob"
)


def make_comment(
    name: str,
    parent: str | None = None,
    *,
    minute: int = 0,
    state: CommentState = CommentState.SHOWN,
    **changes: object,
) -> Comment:
    comment = Comment(
        id=name,
        article_id=1,
        parent_id=parent,
        author=BOB,
        content_html=f"<p>{name}</p>",
        summary=None,
        sensitive=False,
        language=None,
        attachments=(),
        emojis=(),
        url=f"https://social.example/@bob/{name}",
        visibility=Visibility.PUBLIC,
        state=state,
        is_local=False,
        replies_collection=None,
        published=START + timedelta(minutes=minute),
        updated=None,
    )
    return replace(comment, **changes)  # type: ignore[arg-type]


Shape = tuple[str, int, tuple["Shape", ...]]


def shape(nodes: tuple[ThreadNode, ...]) -> tuple[Shape, ...]:
    """The tree as (id, depth, children), to compare with one literal."""
    return tuple((n.comment.id, n.depth, shape(n.children)) for n in nodes)


def top_ids(nodes: tuple[ThreadNode, ...]) -> list[str]:
    return [node.comment.id for node in nodes]


# --- order ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "order"),
    [
        ("oldest", SortOrder.OLDEST),
        ("newest", SortOrder.NEWEST),
        ("liked", SortOrder.LIKED),
        (None, SortOrder.OLDEST),
        ("LIKED", SortOrder.OLDEST),
        ("'; drop table", SortOrder.OLDEST),
    ],
)
def test_sort_order_comes_from_the_query_and_defaults_to_oldest(
    query: str | None, order: SortOrder
) -> None:
    assert SortOrder.parse(query) is order


COMMENTS = [
    make_comment("b", minute=5),
    make_comment("c", minute=1),
    make_comment("a", minute=5),  # the same minute as "b": the id decides
    make_comment("d", minute=9),
]


def test_oldest_first_puts_equal_times_in_id_order() -> None:
    assert top_ids(build_threads(COMMENTS, order=SortOrder.OLDEST)) == ["c", "a", "b", "d"]


def test_newest_first_keeps_id_order_among_equal_times() -> None:
    assert top_ids(build_threads(COMMENTS, order=SortOrder.NEWEST)) == ["d", "a", "b", "c"]


def test_most_liked_first_and_equally_liked_oldest_first() -> None:
    likes = {"d": 7, "b": 2, "c": 2}
    threads = build_threads(COMMENTS, order=SortOrder.LIKED, like_counts=likes)
    assert top_ids(threads) == ["d", "c", "b", "a"]
    # Without counts nobody is liked more, and the order is the oldest first.
    assert top_ids(build_threads(COMMENTS, order=SortOrder.LIKED)) == ["c", "a", "b", "d"]


@pytest.mark.parametrize("order", list(SortOrder))
def test_replies_nest_under_their_parent_oldest_first_whatever_the_order(
    order: SortOrder,
) -> None:
    comments = [
        make_comment("top", minute=0),
        make_comment("late", "top", minute=30),
        make_comment("early", "top", minute=10),
        make_comment("answer", "early", minute=20),
    ]
    assert shape(build_threads(comments, order=order, like_counts={"late": 99})) == (
        ("top", 0, (("early", 1, (("answer", 2, ()),)), ("late", 1, ()))),
    )


# --- depth ---------------------------------------------------------------------------------


def test_replies_past_the_depth_limit_join_the_deepest_level_in_time_order() -> None:
    # A back-and-forth six deep, and a late aside under the fourth reply.
    comments = [make_comment("r0", minute=0)]
    comments += [make_comment(f"r{i}", f"r{i - 1}", minute=10 * i) for i in range(1, 7)]
    comments.append(make_comment("aside", "r4", minute=45))
    threads = build_threads(comments, order=SortOrder.OLDEST, max_depth=3)
    assert shape(threads) == (
        (
            "r0",
            0,
            (
                (
                    "r1",
                    1,
                    (
                        (
                            "r2",
                            2,
                            (
                                ("r3", 3, ()),
                                ("r4", 3, ()),
                                ("aside", 3, ()),
                                ("r5", 3, ()),
                                ("r6", 3, ()),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    )


def test_the_default_depth_is_four() -> None:
    comments = [make_comment("r0")] + [
        make_comment(f"r{i}", f"r{i - 1}", minute=i) for i in range(1, 8)
    ]
    depths: list[int] = []
    stack = list(build_threads(comments, order=SortOrder.OLDEST))
    while stack:
        node = stack.pop()
        depths.append(node.depth)
        stack.extend(node.children)
    assert sorted(depths) == [0, 1, 2, 3, 4, 4, 4, 4]


def test_a_depth_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        build_threads([], order=SortOrder.OLDEST, max_depth=0)


def test_a_chain_of_thousands_of_replies_builds_without_recursion() -> None:
    comments = [make_comment("c0")] + [
        make_comment(f"c{i}", f"c{i - 1}", minute=i) for i in range(1, 5000)
    ]
    threads = build_threads(comments, order=SortOrder.OLDEST)
    assert count_shown(threads) == 5000


# --- deleted comments ----------------------------------------------------------------------


def test_a_deleted_comment_stays_as_a_placeholder_only_above_shown_replies() -> None:
    deleted = CommentState.DELETED
    comments = [
        make_comment("gone-with-reply", minute=0, state=deleted),
        make_comment("reply", "gone-with-reply", minute=1),
        make_comment("gone-alone", minute=2, state=deleted),
        make_comment("gone-above-gone", minute=3, state=deleted),
        make_comment("gone-below", "gone-above-gone", minute=4, state=deleted),
        make_comment("shown", minute=5),
        make_comment("gone-leaf", "shown", minute=6, state=deleted),
        make_comment("gone-middle", "shown", minute=7, state=deleted),
        make_comment("deep", "gone-middle", minute=8),
    ]
    threads = build_threads(comments, order=SortOrder.OLDEST)
    assert shape(threads) == (
        ("gone-with-reply", 0, (("reply", 1, ()),)),
        ("shown", 0, (("gone-middle", 1, (("deep", 2, ()),)),)),
    )
    assert count_shown(threads) == 3


def test_hidden_pending_and_private_comments_never_reach_the_page() -> None:
    comments = [
        make_comment("public"),
        make_comment("unlisted", visibility=Visibility.UNLISTED),
        make_comment("followers", visibility=Visibility.FOLLOWERS),
        make_comment("direct", visibility=Visibility.DIRECT),
        make_comment("hidden", state=CommentState.HIDDEN),
        make_comment("pending", state=CommentState.PENDING),
        make_comment("under-hidden", "hidden", minute=1),
    ]
    threads = build_threads(comments, order=SortOrder.OLDEST)
    # The reply to a hidden comment stays, as a thread of its own: its parent is not shown.
    assert top_ids(threads) == ["public", "unlisted", "under-hidden"]


# --- hostile data --------------------------------------------------------------------------


def test_a_reply_whose_parent_is_not_here_starts_a_thread() -> None:
    comments = [
        make_comment("orphan", "https://elsewhere.example/note/1", minute=2),
        make_comment("top", minute=1),
        make_comment("under-orphan", "orphan", minute=3),
    ]
    assert shape(build_threads(comments, order=SortOrder.OLDEST)) == (
        ("top", 0, ()),
        ("orphan", 0, (("under-orphan", 1, ()),)),
    )


def test_a_parent_chain_that_loops_is_cut_and_its_members_start_threads() -> None:
    comments = [
        make_comment("a", "c", minute=0),
        make_comment("b", "a", minute=1),
        make_comment("c", "b", minute=2),
        make_comment("hanger-on", "b", minute=3),  # outside the loop: stays a reply
        make_comment("self", "self", minute=4),
    ]
    assert shape(build_threads(comments, order=SortOrder.OLDEST)) == (
        ("a", 0, ()),
        ("b", 0, (("hanger-on", 1, ()),)),
        ("c", 0, ()),
        ("self", 0, ()),
    )


def test_a_comment_listed_twice_appears_once() -> None:
    comments = [make_comment("a"), make_comment("a", content_html="<p>again</p>")]
    threads = build_threads(comments, order=SortOrder.OLDEST)
    assert len(threads) == 1
    assert threads[0].comment.content_html == "<p>a</p>"


# --- pages ---------------------------------------------------------------------------------


def test_pages_hold_whole_threads() -> None:
    comments = [make_comment(f"t{i}", minute=i) for i in range(5)]
    comments.append(make_comment("reply", "t0", minute=10))
    threads = build_threads(comments, order=SortOrder.OLDEST)
    first, more = page_threads(threads, 1, 2)
    assert (shape(first), more) == (
        (("t0", 0, (("reply", 1, ()),)), ("t1", 0, ())),
        True,
    )
    assert (top_ids(page_threads(threads, 2, 2)[0]), page_threads(threads, 2, 2)[1]) == (
        ["t2", "t3"],
        True,
    )
    assert (top_ids(page_threads(threads, 3, 2)[0]), page_threads(threads, 3, 2)[1]) == (
        ["t4"],
        False,
    )
    assert page_threads(threads, 4, 2) == ((), False)
    assert top_ids(page_threads(threads, 0, 2)[0]) == ["t0", "t1"]  # a nonsense page is 1
    assert page_threads(threads, 1, 5)[1] is False
    with pytest.raises(ValueError, match="per_page"):
        page_threads(threads, 1, 0)
