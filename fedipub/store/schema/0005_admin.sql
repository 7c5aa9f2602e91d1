-- 0005_admin
-- The admin's password, as fedipub.auth encodes it (scrypt, parameters and salt included).
-- One row at most.
CREATE TABLE admin_password (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    password_hash TEXT NOT NULL,
    updated TEXT NOT NULL
);
-- Sessions by the SHA-256 of their token: a copy of the database opens none of them.
CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires);
-- Failed logins by client (an IPv4 address or an IPv6 /64), kept for the rate-limit window.
CREATE TABLE admin_login_failures (
    id INTEGER PRIMARY KEY,
    client TEXT NOT NULL,
    failed TEXT NOT NULL
);
CREATE INDEX admin_login_failures_client ON admin_login_failures (client, failed);
CREATE INDEX admin_login_failures_failed ON admin_login_failures (failed);
