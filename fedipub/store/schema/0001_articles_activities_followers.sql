-- 0001_articles_activities_followers
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    summary TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    language TEXT,
    content_warning TEXT,
    images TEXT NOT NULL DEFAULT '[]',
    published TEXT NOT NULL,
    updated TEXT,
    source_hash TEXT NOT NULL
);
CREATE INDEX articles_published ON articles (published DESC);
CREATE TABLE article_tags (
    tag TEXT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, article_id)
);
CREATE TABLE tombstones (
    slug TEXT PRIMARY KEY,
    published TEXT NOT NULL,
    deleted TEXT NOT NULL
);
CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    document TEXT NOT NULL,
    published TEXT NOT NULL,
    in_outbox INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX activities_outbox ON activities (published DESC) WHERE in_outbox = 1;
CREATE INDEX activities_object ON activities (object_id);
CREATE TABLE followers (
    actor_id TEXT PRIMARY KEY,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    state TEXT NOT NULL,
    follow_id TEXT NOT NULL,
    created TEXT NOT NULL
);
