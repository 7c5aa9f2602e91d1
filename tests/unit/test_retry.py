"""The retry policy, as a table: what each attempt and status leads to."""

from __future__ import annotations

import email.utils
import random

import pytest

from fedipub.retry import (
    BREAKER_THRESHOLD,
    JITTER,
    MAX_ATTEMPTS,
    MAX_RETRY_AFTER,
    MAX_UNAUTHORIZED_ATTEMPTS,
    GiveUp,
    Retry,
    backoff,
    breaker_pause,
    host_unavailable,
    is_delivered,
    next_attempt,
    parse_retry_after,
)

NOW = 1_800_000_000.0


def _rng() -> random.Random:
    return random.Random(1234)


@pytest.mark.parametrize(
    ("attempt", "base"),
    [
        (1, 60),
        (2, 120),
        (3, 240),
        (6, 1_920),
        (10, 30_720),
        (11, 61_440),
        (12, 86_400),
        (15, 86_400),
    ],
)
def test_backoff_doubles_from_a_minute_to_a_day_with_bounded_jitter(
    attempt: int, base: int
) -> None:
    rng = _rng()
    delays = [backoff(attempt, rng) for _ in range(200)]
    assert all(base * (1 - JITTER) <= d <= base * (1 + JITTER) for d in delays)
    assert max(delays) - min(delays) > base * JITTER  # the jitter is really there


def test_a_seeded_rng_gives_the_same_schedule() -> None:
    first = [next_attempt(n, None, None, NOW, _rng()) for n in range(1, MAX_ATTEMPTS)]
    again = [next_attempt(n, None, None, NOW, _rng()) for n in range(1, MAX_ATTEMPTS)]
    assert first == again


def test_the_whole_schedule_spans_days_in_sixteen_attempts() -> None:
    rng, now, attempts = _rng(), NOW, 0
    while True:
        attempts += 1
        decision = next_attempt(attempts, 503, None, now, rng)
        if isinstance(decision, GiveUp):
            break
        now = decision.at
    assert attempts == MAX_ATTEMPTS == 16
    assert 3.5 * 86_400 < now - NOW < 5.5 * 86_400
    assert decision == GiveUp("16 attempts failed")


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (None, True),  # connection refused, reset, timed out
        (301, True),
        (400, False),
        (401, True),
        (403, False),
        (404, False),
        (405, False),
        (408, True),
        (410, False),
        (413, False),
        (422, False),
        (429, True),
        (500, True),
        (501, False),  # Not Implemented will not become implemented
        (502, True),
        (503, True),
        (504, True),
    ],
)
def test_each_status_class(status: int | None, retried: bool) -> None:
    decision = next_attempt(1, status, None, NOW, _rng())
    assert isinstance(decision, Retry) is retried
    if isinstance(decision, Retry):
        assert NOW + 60 * (1 - JITTER) <= decision.at <= NOW + 60 * (1 + JITTER)


def test_refusals_say_why() -> None:
    assert next_attempt(1, 400, None, NOW, _rng()) == GiveUp("refused with status 400")
    assert next_attempt(1, 410, None, NOW, _rng()) == GiveUp("410 Gone", gone=True)
    assert next_attempt(1, None, None, NOW, _rng(), unsafe=True) == GiveUp(
        "the address is not one we may deliver to"
    )


def test_a_final_401_is_retried_a_few_times_then_given_up() -> None:
    for attempt in range(1, MAX_UNAUTHORIZED_ATTEMPTS):
        assert isinstance(next_attempt(attempt, 401, None, NOW, _rng()), Retry)
    assert next_attempt(MAX_UNAUTHORIZED_ATTEMPTS, 401, None, NOW, _rng()) == GiveUp(
        f"signature still refused (401) at attempt {MAX_UNAUTHORIZED_ATTEMPTS}"
    )


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_honoured(status: int) -> None:
    decision = next_attempt(1, status, "600", NOW, _rng())
    assert decision == Retry(NOW + 600, f"status {status}, Retry-After 600")


def test_retry_after_as_an_http_date_is_honoured() -> None:
    date = email.utils.formatdate(NOW + 7_200, usegmt=True)
    decision = next_attempt(1, 429, date, NOW, _rng())
    assert isinstance(decision, Retry)
    assert decision.at == NOW + 7_200


def test_retry_after_never_hurries_the_backoff_and_is_capped_at_a_day() -> None:
    soon = next_attempt(5, 429, "1", NOW, _rng())
    assert isinstance(soon, Retry)
    assert soon.at >= NOW + 16 * 60 * (1 - JITTER)
    far = next_attempt(1, 503, str(30 * 86_400), NOW, _rng())
    assert far == Retry(NOW + MAX_RETRY_AFTER, f"status 503, Retry-After {30 * 86_400}")


def test_retry_after_is_ignored_on_other_statuses_and_when_malformed() -> None:
    for status, value in ((500, "600"), (429, "soon"), (429, "-5"), (429, "")):
        decision = next_attempt(1, status, value, NOW, _rng())
        assert isinstance(decision, Retry)
        assert decision.at <= NOW + 60 * (1 + JITTER)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        (email.utils.formatdate(NOW + 90, usegmt=True), 90.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: now
        ("Wed, 21 Oct 2015 07:28:00", None),  # no zone: not an RFC 9110 date
        ("not a date", None),
        ("1.5", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_delivered_means_2xx() -> None:
    assert [s for s in (199, 200, 202, 204, 299, 300, 404) if is_delivered(s)] == [
        200,
        202,
        204,
        299,
    ]


def test_the_breaker_counts_outages_not_refusals() -> None:
    assert host_unavailable(None)
    assert host_unavailable(500)
    assert host_unavailable(503)
    assert not host_unavailable(501)
    assert not host_unavailable(429)  # the host is up, just busy: Retry-After handles it
    assert not host_unavailable(400)
    assert not host_unavailable(410)


def test_the_breaker_pauses_after_the_threshold_doubling_to_an_hour() -> None:
    assert [breaker_pause(n) for n in range(1, BREAKER_THRESHOLD)] == [None] * 4
    assert [breaker_pause(BREAKER_THRESHOLD + n) for n in range(8)] == [
        60,
        120,
        240,
        480,
        960,
        1_920,
        3_600,
        3_600,
    ]
