"""Content negotiation: one URL serves HTML to browsers and AS2 JSON to servers."""

from __future__ import annotations

from fedipub import mediatypes
from fedipub.vocab import ACTIVITY_JSON

AS2_CONTENT_TYPE = f"{ACTIVITY_JSON}; charset=utf-8"
_AS2_TYPES = ("application/activity+json", "application/ld+json")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _quality(params: dict[str, str]) -> float:
    try:
        return max(0.0, min(1.0, float(params.get("q", "1"))))
    except ValueError:
        return 0.0


def wants_activity_json(accept: str | None) -> bool:
    """True when the client prefers an AS2 document to HTML. Ties go to AS2 (a server asking
    for both as equals is a server); a missing header or `*/*` gets HTML."""
    if not accept:
        return False
    best_as2 = 0.0
    best_html = 0.0
    for part in accept.split(","):
        media_type, params = mediatypes.parse(part)
        if media_type in _AS2_TYPES:
            best_as2 = max(best_as2, _quality(params))
        elif media_type in _HTML_TYPES:
            best_html = max(best_html, _quality(params))
    return best_as2 > 0 and best_as2 >= best_html
