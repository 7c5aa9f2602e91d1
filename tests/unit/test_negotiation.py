from __future__ import annotations

import pytest

from fedipub.negotiation import wants_activity_json


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("application/activity+json", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        # Mastodon's fetches:
        (
            "application/activity+json, "
            'application/ld+json; profile="https://www.w3.org/ns/activitystreams", '
            "text/html;q=0.1",
            True,
        ),
        ("application/activity+json;q=0.5, text/html", False),
        ("application/activity+json;q=0", False),
        ("application/activity+json;q=bogus", False),
        ("APPLICATION/ACTIVITY+JSON", True),
    ],
)
def test_wants_activity_json(accept: str | None, expected: bool) -> None:
    assert wants_activity_json(accept) is expected
