-- 0008_comment_likes: likes of comments, which order a thread by "Most liked"
CREATE TABLE comment_likes (
    activity_id TEXT PRIMARY KEY,
    comment_id TEXT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    actor_id TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE UNIQUE INDEX comment_likes_once ON comment_likes (comment_id, actor_id);
CREATE INDEX comment_likes_actor ON comment_likes (actor_id);
