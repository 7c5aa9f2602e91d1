"""Remote interaction: a reader names their fediverse instance (or handle), and is sent there to
reply to an article or follow the blog, signed in as themselves.

Pure: the route fetches the documents this reads (a WebFinger JRD, a NodeInfo document) through
the guarded client and hands them in; nothing here does I/O.

How each peer does it (the page every one of them opens, `{uri}` our article or actor URL):

    Mastodon, Hometown, glitch-soc,   /authorize_interaction?uri={uri}   (the default)
    Hackers' Pub
    Pleroma, Akkoma                   /ostatus_subscribe?acct={uri}      (a post or an actor)
    Misskey, Sharkey, Firefish,       /authorize-follow?acct={uri}       (a URL: a Note opens,
    Iceshrimp, CherryPick                                                 a user is followed)
    GoToSocial                        none: it has no web interface to post from

A handle (`@me@host`) is looked up with WebFinger, and its own advice wins: the FEP-3b86
Activity Intents (`https://w3id.org/fep/3b86/Object`, `…/Follow`; Mastodon publishes `Object`),
then the OStatus subscribe template that Mastodon, Pleroma and Misskey all publish.
A bare host has no account to look up: its NodeInfo names the software, and the table above
gives the page. Whatever fails, times out or says nothing leads to Mastodon's page.

The redirect is never an arbitrary URL: it is `https://` on the very host the reader named (or
the host its WebFinger answered from, for the LOCAL_DOMAIN/WEB_DOMAIN split), checked
character by character so that no parser disagreement (`\\@`, userinfo) can point it elsewhere.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from fedipub.errors import MalformedError

SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
INTENT_REL = "https://w3id.org/fep/3b86/"
NODEINFO_REL = "http://nodeinfo.diaspora.software/ns/schema/2."
MASTODON_TEMPLATE = "/authorize_interaction?uri={uri}"
MAX_INPUT = 320

# Software (NodeInfo `software.name`) whose page is not Mastodon's; None: it has none.
SOFTWARE_TEMPLATES: Mapping[str, str | None] = {
    "pleroma": "/ostatus_subscribe?acct={uri}",
    "akkoma": "/ostatus_subscribe?acct={uri}",
    **dict.fromkeys(
        ("misskey", "sharkey", "firefish", "iceshrimp", "cherrypick", "foundkey", "catodon"),
        "/authorize-follow?acct={uri}",
    ),
    "gotosocial": None,
}

_LABEL = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*(?::(?P<port>[0-9]{{1,5}}))?")
# Mastodon allows [A-Za-z0-9_]; Pleroma and Akkoma also "." and "-".
_USER = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?")
# What may follow the host in a redirect: RFC 3986 path and query characters, nothing else (no
# "\", no spaces, no "#").
_REST = r"(?:[/?][A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*)?"
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


class Intent(enum.Enum):
    """What the reader wants to do with our URL."""

    INTERACT = "Object"  # an article: reply, like, boost
    FOLLOW = "Follow"  # the blog's actor


@dataclass(frozen=True)
class Account:
    """Where the reader's account lives: `host` with an optional `:port`, and their user name
    when they gave a handle."""

    host: str
    user: str | None = None

    @property
    def acct(self) -> str | None:
        return f"acct:{self.user}@{self.host}" if self.user else None


def _parse_host(value: str) -> str:
    try:
        # IDNA: a reader may type an internationalized name; only its ASCII form is checked.
        ascii_host = value.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise MalformedError("not a host name") from None
    match = _HOST.fullmatch(ascii_host)
    port = match["port"] if match else None
    # A single label ("localhost") is no instance's public name; with a port, a local test one.
    if match is None or ("." not in ascii_host.split(":")[0] and port is None):
        raise MalformedError("not a host name")
    if port is not None and not 0 < int(port) < 65536:
        raise MalformedError("not a port number")
    return ascii_host


def parse_account(value: str) -> Account:
    """A reader's answer to "your instance or handle": `mastodon.social`,
    `https://mastodon.social/`, `@me@mastodon.social` or `me@mastodon.social`.

    Raises MalformedError on anything else, spaces or any other scheme included.
    """
    text = value.strip()
    if not text or len(text) > MAX_INPUT or any(c.isspace() or ord(c) < 32 for c in text):
        raise MalformedError("give an instance (example.social) or a handle (@you@example.social)")
    lowered = text.lower()
    for prefix in ("https://", "http://"):
        if lowered.startswith(prefix):
            # Pasted from the address bar: only a bare origin is taken, never a path.
            return Account(_parse_host(text[len(prefix) :].removesuffix("/")))
    user, at, host = text.removeprefix("@").rpartition("@")
    if not at:
        return Account(_parse_host(text))
    if not _USER.fullmatch(user):
        raise MalformedError("not a user name")
    return Account(_parse_host(host), user)


def webfinger_url(account: Account, scheme: str = "https") -> str:
    return f"{scheme}://{account.host}/.well-known/webfinger?resource={quote(account.acct or '')}"


def nodeinfo_links_url(account: Account, scheme: str = "https") -> str:
    return f"{scheme}://{account.host}/.well-known/nodeinfo"


def _links(document: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    links = document.get("links")
    return [link for link in links if isinstance(link, dict)] if isinstance(links, list) else []


def nodeinfo_url(links_document: Mapping[str, Any]) -> str | None:
    """The NodeInfo 2.x document named by `/.well-known/nodeinfo`."""
    for link in _links(links_document):
        rel, href = link.get("rel"), link.get("href")
        if isinstance(rel, str) and rel.startswith(NODEINFO_REL) and isinstance(href, str):
            return href
    return None


def software_name(nodeinfo: Mapping[str, Any]) -> str | None:
    software = nodeinfo.get("software")
    name = software.get("name") if isinstance(software, dict) else None
    return name.lower() if isinstance(name, str) else None


def find_template(jrd: Mapping[str, Any], intent: Intent) -> str | None:
    """The JRD's page for `intent`: its FEP-3b86 intent, the generic Object one, then the
    OStatus subscribe template. FEP-3b86 puts the template in `href`, Mastodon in `template`."""
    by_rel: dict[str, str] = {}
    for link in _links(jrd):
        rel = link.get("rel")
        value = link.get("template", link.get("href"))
        if isinstance(rel, str) and isinstance(value, str):
            by_rel.setdefault(rel, value)
    for rel in (INTENT_REL + intent.value, INTENT_REL + Intent.INTERACT.value, SUBSCRIBE_REL):
        if rel in by_rel:
            return by_rel[rel]
    return None


def expand(template: str, uri: str, allowed_hosts: Iterable[str]) -> str | None:
    """`template` with `uri` percent-encoded into its `{uri}` or `{object}`, other placeholders
    emptied (FEP-3b86 §3.2); None unless the result is `https://` on one of `allowed_hosts`."""
    encoded = quote(uri, safe="")
    url = _PLACEHOLDER.sub(
        lambda m: encoded if m[0] in ("{uri}", "{object}") else "",
        template,
    )
    if encoded not in url:
        return None
    for host in allowed_hosts:
        if re.fullmatch(rf"https://{re.escape(host)}{_REST}", url):
            return url
    return None


def redirect_url(
    account: Account,
    uri: str,
    intent: Intent,
    *,
    jrd: Mapping[str, Any] | None = None,
    jrd_url: str | None = None,
    software: str | None = None,
) -> str | None:
    """Where to send the reader, or None when their software has no such page (GoToSocial).

    `jrd` is the account's WebFinger answer and `jrd_url` where it came from (after redirects);
    `software` what NodeInfo named. Anything unusable in them falls back to the next choice.
    """
    own = f"https://{account.host}"
    if jrd is not None:
        template = find_template(jrd, intent)
        hosts = [account.host]
        if jrd_url:
            hosts.append(urlsplit(jrd_url).netloc.lower())
        found = expand(template, uri, hosts) if template else None
        if found:
            return found
    if software is not None and software in SOFTWARE_TEMPLATES:
        path = SOFTWARE_TEMPLATES[software]
        return None if path is None else expand(own + path, uri, [account.host])
    return expand(own + MASTODON_TEMPLATE, uri, [account.host])
