-- 0003_inbox: comments, reactions, what the inbox saw and decided, blocks, mentions, reports
CREATE TABLE comments (
    id TEXT PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    parent_id TEXT,
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    author_handle TEXT NOT NULL,
    author_avatar TEXT,
    author_url TEXT NOT NULL,
    content_html TEXT NOT NULL,
    summary TEXT,
    sensitive INTEGER NOT NULL DEFAULT 0,
    language TEXT,
    attachments TEXT NOT NULL DEFAULT '[]',
    emojis TEXT NOT NULL DEFAULT '[]',
    url TEXT NOT NULL,
    visibility TEXT NOT NULL,
    state TEXT NOT NULL,
    is_local INTEGER NOT NULL DEFAULT 0,
    replies_collection TEXT,
    published TEXT NOT NULL,
    updated TEXT,
    received TEXT NOT NULL
);
CREATE INDEX comments_article ON comments (article_id, published);
CREATE INDEX comments_author ON comments (author_id);
CREATE INDEX comments_parent ON comments (parent_id);
CREATE TABLE reactions (
    activity_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    actor_handle TEXT NOT NULL,
    actor_avatar TEXT,
    actor_url TEXT NOT NULL,
    emoji TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE UNIQUE INDEX reactions_once ON reactions (article_id, actor_id, kind, emoji);
CREATE INDEX reactions_actor ON reactions (actor_id);
CREATE TABLE seen_activities (
    id TEXT PRIMARY KEY,
    received TEXT NOT NULL
);
CREATE TABLE inbox_log (
    id INTEGER PRIMARY KEY,
    received TEXT NOT NULL,
    activity_id TEXT,
    activity_type TEXT,
    actor TEXT,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX inbox_log_received ON inbox_log (received DESC);
CREATE TABLE blocks (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE TABLE mentions (
    id TEXT PRIMARY KEY,
    actor_id TEXT NOT NULL,
    author_handle TEXT NOT NULL,
    content_html TEXT NOT NULL,
    url TEXT NOT NULL,
    visibility TEXT NOT NULL,
    received TEXT NOT NULL
);
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    actor_id TEXT NOT NULL,
    object_ids TEXT NOT NULL,
    content TEXT NOT NULL,
    received TEXT NOT NULL
);
