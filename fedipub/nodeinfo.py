"""NodeInfo 2.1 (https://nodeinfo.diaspora.software): what software this server runs."""

from __future__ import annotations

from typing import Any

from fedipub import __version__
from fedipub.config import Settings
from fedipub.urls import Urls

SCHEMA_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
SOFTWARE_NAME = "fedipub"


def build_nodeinfo_links(urls: Urls) -> dict[str, Any]:
    return {"links": [{"rel": SCHEMA_21, "href": urls.nodeinfo}]}


def build_nodeinfo(settings: Settings, *, local_posts: int, local_comments: int) -> dict[str, Any]:
    return {
        "version": "2.1",
        "software": {
            "name": SOFTWARE_NAME,
            "version": __version__,
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
        # One author per server: nobody can sign up.
        "openRegistrations": False,
        "usage": {
            "users": {"total": 1, "activeHalfyear": 1, "activeMonth": 1},
            "localPosts": local_posts,
            "localComments": local_comments,
        },
        "metadata": {"nodeName": settings.display_name},
    }
