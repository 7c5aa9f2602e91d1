"""Each benchmark runs end to end at a tiny size and reports its figures: the suite stays
runnable as the code changes. What the figures are is not judged here (no timing in tests)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from bench import fanout, fetch, inbox, memory, page
from bench.results import Row, markdown_table

pytestmark = pytest.mark.slow

TINY: dict[str, Callable[[], list[Row]]] = {
    "memory": memory.run,
    "inbox": lambda: inbox.run(n=6, concurrency=3, actors=2),
    "fanout": lambda: fanout.run(followers=20, hosts=4),
    "page": lambda: page.run(sizes=(2, 6), likes=3, requests=3),
    "fetch": lambda: fetch.run(connections=4, requests=12),
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_the_benchmark_runs_and_reports_numbers(name: str) -> None:
    rows = TINY[name]()
    assert rows
    for row in rows:
        assert isinstance(row.figure, float | int)
        assert row.ceiling is None or math.isfinite(row.ceiling)
        assert row.command.startswith("python -m bench")
    assert markdown_table(rows).count("\n") == len(rows) + 2


def test_the_inbox_replies_all_become_comments() -> None:
    measured = inbox.measure(n=4, concurrency=2, actor_count=2)
    assert measured.visible == measured.expected == 6
    assert measured.fedipub.errors == 0
    assert set(measured.fedipub.statuses) == {202}
