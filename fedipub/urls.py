"""Every public URL of the blog, built in one place from the base URL.

Changing a path here changes it everywhere; ids that have been federated must never change,
so the layout below is a compatibility promise.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Urls:
    base: str  # scheme://host[:port], no trailing slash
    username: str

    @property
    def home(self) -> str:
        return f"{self.base}/"

    @property
    def actor(self) -> str:
        return f"{self.base}/users/{self.username}"

    @property
    def main_key(self) -> str:
        return f"{self.actor}#main-key"

    @property
    def ed25519_key(self) -> str:
        return f"{self.actor}#ed25519-key"

    @property
    def inbox(self) -> str:
        return f"{self.actor}/inbox"

    @property
    def outbox(self) -> str:
        return f"{self.actor}/outbox"

    @property
    def followers(self) -> str:
        return f"{self.actor}/followers"

    @property
    def following(self) -> str:
        return f"{self.actor}/following"

    @property
    def featured(self) -> str:
        return f"{self.actor}/collections/featured"

    @property
    def featured_tags(self) -> str:
        return f"{self.actor}/collections/tags"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    @property
    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    @property
    def instance_key(self) -> str:
        return f"{self.instance_actor}#main-key"

    @property
    def atom_feed(self) -> str:
        return f"{self.base}/feed.atom"

    @property
    def rss_feed(self) -> str:
        return f"{self.base}/feed.rss"

    @property
    def nodeinfo(self) -> str:
        return f"{self.base}/nodeinfo/2.1"

    def article(self, slug: str) -> str:
        return f"{self.base}/posts/{slug}"

    def replies(self, slug: str) -> str:
        return f"{self.article(slug)}/replies"

    def likes(self, slug: str) -> str:
        return f"{self.article(slug)}/likes"

    def shares(self, slug: str) -> str:
        return f"{self.article(slug)}/shares"

    def context(self, slug: str) -> str:
        return f"{self.article(slug)}/context"

    def reply(self, reply_id: str) -> str:
        """The author's own replies to comments."""
        return f"{self.base}/replies/{reply_id}"

    def activity(self, activity_id: str) -> str:
        return f"{self.base}/activities/{activity_id}"

    def tag(self, tag: str) -> str:
        return f"{self.base}/tags/{quote(tag.lower(), safe='')}"

    def media(self, path: str) -> str:
        return f"{self.base}/media/{quote(path)}"

    def subscribe_template(self) -> str:
        return f"{self.base}/authorize_interaction?uri={{uri}}"

    def absolute(self, url: str) -> str:
        """An author-given URL made absolute: `/media/a.jpg` → `https://host/media/a.jpg`."""
        if url.startswith(("https://", "http://")):
            return url
        return f"{self.base}/{url.lstrip('/')}"
