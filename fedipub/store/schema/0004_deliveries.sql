-- 0004_deliveries
-- One row per (activity, inbox): the durable outbox queue. `id` is the enqueue order, which
-- orders deliveries of one object to one inbox (a Create before its Update or Delete).
-- state: pending (claimed while claimed_by is set and lease_until is in the future),
-- delivered or given_up. Times are codec ISO 8601 text, which sorts in time order.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    activity_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    inbox TEXT NOT NULL,
    host TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT NOT NULL,
    claimed_by TEXT,
    lease_until TEXT,
    last_status INTEGER,
    last_error TEXT,
    last_body TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (activity_id, inbox)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt) WHERE state = 'pending';
CREATE INDEX deliveries_order ON deliveries (inbox, object_id, id) WHERE state = 'pending';
CREATE INDEX deliveries_activity ON deliveries (activity_id, host);
-- The per-host breaker: consecutive failures, and until when the host is paused.
CREATE TABLE delivery_hosts (
    host TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    paused_until TEXT,
    updated TEXT NOT NULL
);
CREATE INDEX delivery_hosts_updated ON delivery_hosts (updated);
