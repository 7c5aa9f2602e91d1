"""Conditional GET's pure parts: entity-tag comparison and dates (RFC 9110 §8.8, §13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fedipub.caching import etag_matches, http_date, latest, not_modified_since, weak_etag

NOW = datetime(2026, 11, 29, 10, 0, 0, tzinfo=UTC)


def test_weak_etags_compare_weakly_in_lists_and_with_a_star() -> None:
    tag = weak_etag(b"body")
    assert tag.startswith('W/"') and tag != weak_etag(b"other")
    assert etag_matches(tag, tag)
    assert etag_matches(tag.removeprefix("W/"), tag)  # a strong copy of the same tag
    assert etag_matches(f'"a", {tag} , "b"', tag)
    assert etag_matches("*", tag)
    assert not etag_matches('"a", W/"b"', tag)
    assert not etag_matches("", tag)


def test_dates_are_imf_fixdates_compared_to_the_second() -> None:
    assert http_date(NOW.replace(microsecond=999)) == "Sun, 29 Nov 2026 10:00:00 GMT"
    modified = http_date(NOW)
    assert not_modified_since(modified, modified)
    assert not_modified_since(http_date(NOW + timedelta(seconds=1)), modified)
    assert not not_modified_since(http_date(NOW - timedelta(seconds=1)), modified)
    assert not not_modified_since("yesterday", modified)
    assert not not_modified_since("Sun, 29 Nov 2026 10:00:00", modified)  # no zone: ignored


def test_last_modified_is_the_newest_date_never_in_the_future() -> None:
    naive = datetime(2026, 11, 1, 12, 0)
    assert latest([naive, None, NOW - timedelta(days=1)], NOW) == NOW - timedelta(days=1)
    assert latest([NOW + timedelta(days=3)], NOW) == NOW  # a peer's clock running ahead
    assert latest([], NOW) == NOW
