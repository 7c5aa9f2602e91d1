-- 0002_remote_actors_and_keys
CREATE TABLE remote_actors (
    id TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);
CREATE TABLE remote_keys (
    key_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);
CREATE INDEX remote_keys_owner ON remote_keys (owner);
