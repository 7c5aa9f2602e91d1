"""Prometheus metrics, in a registry of the server's own (never the process-global one, so two
apps in one process, as in the tests, count apart).

The inbox, the delivery worker and the fetcher know nothing of Prometheus: each takes an
optional callback, and `build_services` hands them this object's methods.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from fedipub.delivery import DeliveryResult
from fedipub.types import InboxOutcome

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Remote servers answer in tens of milliseconds to seconds; the client gives up at 15 s.
_FETCH_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)


def reason_class(outcome: InboxOutcome, reason: str) -> str:
    """A bounded label for an inbox outcome's reason: the HTTP status of a refusal (the text
    names peers and ids, which would make a time series per request)."""
    if outcome is InboxOutcome.REJECTED:
        status = reason[:3]
        if status.isdigit():
            return status
        return "fetch" if reason.startswith("cannot fetch") else "other"
    if outcome is InboxOutcome.IGNORED:
        if "blocked" in reason:
            return "blocked"
        return "unhandled" if reason.endswith("is not handled") else "other"
    return "-"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._inbox = Counter(
            "fedipub_inbox_activities",
            "Activities the inbox received, by outcome and reason class",
            ["outcome", "reason"],
            registry=self.registry,
        )
        self._deliveries = Counter(
            "fedipub_delivery_attempts",
            "Delivery attempts made by this process, by result",
            ["result"],
            registry=self.registry,
        )
        # One child per result, looked up once: a fan-out counts thousands a second.
        self._delivery_results = {
            result: self._deliveries.labels(result.value) for result in DeliveryResult
        }
        self._queue_depth = Gauge(
            "fedipub_delivery_queue_depth",
            "Deliveries waiting (never attempted, or to be retried)",
            registry=self.registry,
        )
        self._queue_age = Gauge(
            "fedipub_delivery_queue_oldest_seconds",
            "Age of the oldest waiting delivery (0 when none waits)",
            registry=self.registry,
        )
        self._fetch = Histogram(
            "fedipub_fetch_seconds",
            "Signed fetches of remote documents (actors, keys, objects)",
            ["outcome"],
            buckets=_FETCH_BUCKETS,
            registry=self.registry,
        )

    def inbox_outcome(self, outcome: InboxOutcome, reason: str) -> None:
        self._inbox.labels(outcome.value, reason_class(outcome, reason)).inc()

    def delivery_result(self, result: DeliveryResult) -> None:
        self._delivery_results[result].inc()

    def fetch_done(self, seconds: float, ok: bool) -> None:
        self._fetch.labels("ok" if ok else "error").observe(seconds)

    def set_queue(self, depth: int, oldest: datetime | None, now: datetime) -> None:
        """The queue gauges, read from the database at scrape time: with `fedipub worker` in
        another process, only the database knows."""
        self._queue_depth.set(depth)
        self._queue_age.set(0 if oldest is None else max(0.0, (now - oldest).total_seconds()))

    def render(self) -> bytes:
        return generate_latest(self.registry)
