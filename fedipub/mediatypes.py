"""Media types as HTTP sends them (`type/subtype; name=value; …`), for both directions: the
client judging what a peer answered, the web layer reading what a client accepts."""

from __future__ import annotations

from fedipub.vocab import ACTIVITY_JSON, AS_CONTEXT, JRD_JSON, LD_JSON_AS

_LD_JSON = LD_JSON_AS.partition(";")[0]
# Acceptable only when the caller asked for them (WebFinger answers in JRD, RFC 7033 §10.2).
_PLAIN_JSON_TYPES = frozenset({JRD_JSON, "application/json"})


def parse(value: str) -> tuple[str, dict[str, str]]:
    """The media type, lower-cased, and its parameters (lower-cased names, unquoted values)."""
    media_type, *raw_params = value.split(";")
    params = {}
    for raw in raw_params:
        name, _, param_value = raw.partition("=")
        params[name.strip().lower()] = param_value.strip().strip('"')
    return media_type.strip().lower(), params


def is_activity_json(content_type: str) -> bool:
    """True for the AS2 media types: activity+json, or ld+json with no profile or the AS2 one.

    Some servers send ld+json without the profile; Mastodon accepts it, so do we.
    """
    media_type, params = parse(content_type)
    if media_type == ACTIVITY_JSON:
        return True
    profile = params.get("profile")
    return media_type == _LD_JSON and (profile is None or AS_CONTEXT in profile.split())


def is_acceptable(content_type: str, accept: str) -> bool:
    """Whether a response of `content_type` answers a request that sent `accept`: AS2 always,
    plain JSON or JRD only when asked for."""
    if is_activity_json(content_type):
        return True
    media_type, _ = parse(content_type)
    requested = {parse(part)[0] for part in accept.split(",")}
    return media_type in _PLAIN_JSON_TYPES and media_type in requested
