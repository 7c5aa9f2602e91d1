-- 0007_article_mentions: the accounts an article mentions, resolved when it was published
ALTER TABLE articles ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
