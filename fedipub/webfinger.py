"""WebFinger (RFC 7033) and host-meta (RFC 6415): how `@blog@example.com` becomes an actor URL.

Pure: the route hands in the query and gets back a JRD, or None for "not ours" (404).
"""

from __future__ import annotations

import html
from typing import Any

from fedipub.config import Settings
from fedipub.urls import Urls
from fedipub.vocab import ACTIVITY_JSON, LD_JSON_AS

PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
SUBSCRIBE = "http://ostatus.org/schema/1.0/subscribe"
AVATAR = "http://webfinger.net/rel/avatar"


def parse_acct(resource: str) -> tuple[str, str] | None:
    """`acct:user@host`, or `user@host` / `@user@host` as some clients send → (user, host)."""
    value = resource.strip()
    if value.lower().startswith("acct:"):
        value = value[5:]
    value = value.lstrip("@")
    user, sep, host = value.rpartition("@")
    if not sep or not user or not host or "/" in value:
        return None
    return user, host


def _same_host(host: str, settings: Settings) -> bool:
    return host.lower() in (settings.domain.lower(), settings.domain.lower().split(":")[0])


def _blog_jrd(settings: Settings, urls: Urls) -> dict[str, Any]:
    links: list[dict[str, Any]] = [
        {"rel": "self", "type": ACTIVITY_JSON, "href": urls.actor},
        {"rel": "self", "type": LD_JSON_AS, "href": urls.actor},
        {"rel": PROFILE_PAGE, "type": "text/html", "href": urls.actor},
        {"rel": SUBSCRIBE, "template": urls.subscribe_template()},
    ]
    if settings.icon_url:
        links.append({"rel": AVATAR, "href": urls.absolute(settings.icon_url)})
    return {
        "subject": f"acct:{settings.username}@{settings.domain}",
        "aliases": [urls.actor, urls.home],
        "links": links,
    }


def _instance_jrd(settings: Settings, urls: Urls) -> dict[str, Any]:
    host = settings.domain.split(":")[0]
    return {
        "subject": f"acct:{host}@{settings.domain}",
        "aliases": [urls.instance_actor],
        "links": [{"rel": "self", "type": ACTIVITY_JSON, "href": urls.instance_actor}],
    }


def build_webfinger(resource: str, settings: Settings, urls: Urls) -> dict[str, Any] | None:
    """The JRD for `resource` if it names one of our actors, else None."""
    if resource in (urls.actor, urls.home, urls.home.rstrip("/")):
        return _blog_jrd(settings, urls)
    if resource == urls.instance_actor:
        return _instance_jrd(settings, urls)
    acct = parse_acct(resource)
    if acct is None or not _same_host(acct[1], settings):
        return None
    user = acct[0].lower()
    if user == settings.username:
        return _blog_jrd(settings, urls)
    if user == settings.domain.split(":")[0].lower():
        return _instance_jrd(settings, urls)
    return None


def _lrdd_template(urls: Urls) -> str:
    return f"{urls.base}/.well-known/webfinger?resource={{uri}}"


def build_host_meta_xml(urls: Urls) -> str:
    template = html.escape(_lrdd_template(urls), quote=True)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/jrd+json" template="{template}"/>\n'
        "</XRD>\n"
    )


def build_host_meta_json(urls: Urls) -> dict[str, Any]:
    return {
        "links": [{"rel": "lrdd", "type": "application/jrd+json", "template": _lrdd_template(urls)}]
    }
