"""When to try a failed delivery again, and when to stop: a pure function of what happened.

`next_attempt` decides from the attempt count, the response status (None: no response) and
Retry-After. The rules, and where they come from:

- Exponential backoff with jitter: 1 minute doubling up to a day, 16 attempts in all (about
  four and a half days; Mastodon's DeliveryWorker also retries 16 times, `retry: 16`). The
  jitter (±20 %) spreads the retries of the many deliveries that failed at one moment (a host
  that went down) so they do not come back as one burst when it returns.
- 4xx means the peer will never take this activity: give up at once, except 401, 408 and 429
  (Mastodon's `response_error_unsalvageable?`, app/helpers/jsonld_helper.rb). 501 gives up too.
- 401 reaches us only after `SignedHttp` knocked in both signature formats. It is still worth
  a few tries: the peer may have a stale copy of our key, or have failed to fetch our actor.
  After `MAX_UNAUTHORIZED_ATTEMPTS` it gives up.
- 429 and 503 with Retry-After (seconds or an HTTP-date, RFC 9110 §10.2.3): never before the
  time asked for, capped at a day so a hostile value cannot park a delivery for ever; never
  sooner than our own backoff either.
- 410 Gone: give up, and report it (`GiveUp.gone`) so followers behind that inbox can go.
- The SSRF guard's refusal (`unsafe`): the URL will not become safe; give up.
- No response (connection refused, timeout, reset): retry.

The per-host breaker's rules live here too (`host_unavailable`, `breaker_pause`): hosts that
fail over and over are paused as a whole instead of every delivery to them retrying alone
(Mastodon wraps each delivery in a Stoplight circuit: 10 failures, 60 s cool-off).
"""

from __future__ import annotations

import email.utils
import random
from dataclasses import dataclass

MAX_ATTEMPTS = 16
FIRST_DELAY = 60.0
MAX_DELAY = 86_400.0
JITTER = 0.2
MAX_UNAUTHORIZED_ATTEMPTS = 4
MAX_RETRY_AFTER = 86_400.0
# Older than this, a pending delivery is given up even if attempts remain (jobs waiting behind a
# paused host do not spend attempts). Longer than the backoff schedule's ~5.3 days at most.
MAX_AGE = 7 * 86_400.0

BREAKER_THRESHOLD = 5
BREAKER_FIRST_PAUSE = 60.0
BREAKER_MAX_PAUSE = 3_600.0
# A host's breaker row is forgotten when untouched this long, so the table cannot grow without
# bound with hosts that never come back (Fedify kept one entry per dead host for ever:
# fedify-dev/fedify#916). Longer than MAX_AGE: no job waits behind a forgotten host.
BREAKER_TTL = 8 * 86_400.0

_RETRY_AFTER_STATUSES = frozenset({429, 503})
_SALVAGEABLE_4XX = frozenset({401, 408, 429})


@dataclass(frozen=True)
class Retry:
    """Try again at `at` (seconds since the epoch)."""

    at: float
    reason: str


@dataclass(frozen=True)
class GiveUp:
    """Stop trying; `gone` when the peer said 410 Gone."""

    reason: str
    gone: bool = False


Decision = Retry | GiveUp


def is_delivered(status: int) -> bool:
    return 200 <= status < 300


def backoff(attempt: int, rng: random.Random) -> float:
    """Seconds to wait after the `attempt`-th failed attempt (1-based)."""
    base = min(FIRST_DELAY * 2.0 ** (attempt - 1), MAX_DELAY)
    return base * rng.uniform(1 - JITTER, 1 + JITTER)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from `now` that a Retry-After header asks for; None if absent or malformed."""
    if value is None:
        return None
    text = value.strip()
    if text.isdecimal():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT; an obsolete form may not say so
        return None
    return max(0.0, moment.timestamp() - now)


def next_attempt(
    attempt: int,
    status: int | None,
    retry_after: str | None,
    now: float,
    rng: random.Random,
    *,
    unsafe: bool = False,
) -> Decision:
    """What to do after the `attempt`-th attempt (1-based) failed with `status` (None: no
    response at all, or the guard refused the URL when `unsafe`)."""
    if unsafe:
        return GiveUp("the address is not one we may deliver to")
    if status == 410:
        return GiveUp("410 Gone", gone=True)
    if status is not None and (
        status == 501 or (400 <= status < 500 and status not in _SALVAGEABLE_4XX)
    ):
        return GiveUp(f"refused with status {status}")
    if status == 401 and attempt >= MAX_UNAUTHORIZED_ATTEMPTS:
        return GiveUp(f"signature still refused (401) at attempt {attempt}")
    if attempt >= MAX_ATTEMPTS:
        return GiveUp(f"{attempt} attempts failed")
    delay = backoff(attempt, rng)
    what = "no response" if status is None else f"status {status}"
    if status in _RETRY_AFTER_STATUSES:
        asked = parse_retry_after(retry_after, now)
        if asked is not None:
            delay = max(delay, min(asked, MAX_RETRY_AFTER))
            what = f"{what}, Retry-After {retry_after}"
    return Retry(now + delay, what)


def host_unavailable(status: int | None) -> bool:
    """Whether a failure says the host is down (counts towards its breaker), rather than that
    it answered and refused: any answer but a 5xx shows it is up (as Fedify counts them)."""
    return status is None or (status >= 500 and status != 501)


def breaker_pause(failures: int) -> float | None:
    """Seconds to pause a host after `failures` consecutive failures; None while below the
    threshold. Each failed probe doubles the pause, up to an hour."""
    if failures < BREAKER_THRESHOLD:
        return None
    return min(BREAKER_FIRST_PAUSE * 2.0 ** (failures - BREAKER_THRESHOLD), BREAKER_MAX_PAUSE)
