"""The small values every AS2 document is made of, read defensively: the JSON body itself, ids,
URLs and origins, dates, human text, language tags and addressing."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit

import orjson

from fedipub.errors import MalformedError, TooLargeError
from fedipub.keydocs import ACTOR_TYPES
from fedipub.sanitize import plain_text
from fedipub.types import Visibility
from fedipub.vocab import AS_PUBLIC

MAX_BODY_BYTES = 1_000_000
MAX_JSON_DEPTH = 32
# Lists (to, cc, tag, attachment, icon, url…) are read up to this many items and the rest is
# ignored: a 1 MB body holds ~100,000 tiny items, while a real post has a few dozen mentions
# and a handful of attachments at most. Dropping addressees can only make a post look less
# public than it is, never more.
MAX_LIST_ITEMS = 100
MAX_URL_LENGTH = 2048
MAX_DATE_LENGTH = 64
# HTML over this size is refused rather than cut (a cut changes what it says); a real comment
# is a few KB.
MAX_CONTENT_BYTES = 100_000
DISPLAY_NAME_LENGTH = 100
SUMMARY_LENGTH = 500
ALT_TEXT_LENGTH = 1500

# Mastodon's TagManager#public_collection? accepts the compacted forms too; Pleroma's fixtures
# carry the http:// spelling (mastodon-undo-announce.json), which means the same thing.
PUBLIC_ALIASES = frozenset(
    {AS_PUBLIC, "as:Public", "Public", "http://www.w3.org/ns/activitystreams#Public"}
)

# Letters, digits, hyphens and underscores (GNU social's test hosts use them), dot-separated.
# Unicode hosts are refused: every peer federates punycode, and a Unicode host shown in a
# handle is a homograph risk (mastodon/mastodon#3833).
_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}")
# Visible-nothing letters (category Lo, so not caught as format characters) used for blank or
# lookalike names.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
_ZWJ = "\u200d"
# What `_split_http` refuses anywhere in a URL: whitespace (as str.isspace() has it, which is
# what `\s` matches in a str pattern), backslashes, and the C0 and C1 controls (category Cc).
# One regex scan instead of a Python loop over every character: URLs are parsed several times
# per inbox request.
_UNSAFE_IN_URL = re.compile(r"[\s\\\x00-\x1f\x7f-\x9f]")


def parse_json_body(body: bytes) -> dict[str, Any]:
    """An inbox body as a JSON object: at most MAX_BODY_BYTES, strict JSON (orjson refuses
    NaN, invalid UTF-8 and lone surrogates), at most MAX_JSON_DEPTH containers deep."""
    if len(body) > MAX_BODY_BYTES:
        raise TooLargeError(f"body is over {MAX_BODY_BYTES} bytes")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedError(f"body is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise MalformedError("body is not a JSON object")
    _check_depth(document)
    return document


def _check_depth(document: dict[str, Any]) -> None:
    """Level by level rather than recursively: orjson stops at 1024 levels already, but every
    later walk over the document (JSON-LD, signatures) should not have to care. About 40 ms
    for a pathological 1 MB body of 240,000 containers; microseconds for a real activity."""
    level: list[Any] = [document]
    for _ in range(MAX_JSON_DEPTH):
        level = [
            value
            for container in level
            for value in (container.values() if type(container) is dict else container)
            if isinstance(value, dict | list)
        ]
        if not level:
            return
    raise MalformedError("JSON nested too deeply")


def as_list(value: Any) -> list[Any]:
    """AS2's "one or many" as a list of at most MAX_LIST_ITEMS items."""
    if value is None:
        return []
    return value[:MAX_LIST_ITEMS] if isinstance(value, list) else [value]


def ids_of(value: Any) -> tuple[str, ...]:
    """The ids named by a bare id, an embedded object, or a list of either; objects without a
    string id are skipped."""
    found = []
    for item in as_list(value):
        if isinstance(item, dict):
            item = item.get("id")
        if isinstance(item, str):
            found.append(item)
    return tuple(found)


def first_id(value: Any) -> str | None:
    ids = ids_of(value)
    return ids[0] if ids else None


def first_actor(value: Any) -> str | None:
    """The first actor of `actor`/`attributedTo`: PeerTube attributes a Video to a Person and
    its channel (a Group), others to a bare id; embedded non-actors are skipped."""
    # An embedded actor without a type counts: Hubzilla sends {"id": …} alone.
    actors = [
        item
        for item in as_list(value)
        if not isinstance(item, dict)
        or kind_of(item.get("type", "Person"), ACTOR_TYPES) in ACTOR_TYPES
    ]
    return first_id(actors)


def kind_of(value: Any, known: frozenset[str]) -> str | None:
    """The `type`: a string as it is, or from a list the first known type (else the first)."""
    kinds = [kind for kind in as_list(value) if isinstance(kind, str) and 0 < len(kind) <= 100]
    return next((kind for kind in kinds if kind in known), kinds[0] if kinds else None)


def _split_http(value: Any) -> SplitResult | None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_URL_LENGTH:
        return None
    # Whitespace, controls and backslashes are where URL parsers disagree (a browser reads
    # "https://a.example\@b.example/" as host a.example), so no such URL is let through.
    if _UNSAFE_IN_URL.search(value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not 0-65535
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or "@" in parts.netloc:
        return None  # userinfo reads as a host to people: https://bank.example@evil.example/
    host = parts.hostname
    if host is None or len(host) > 253 or not _HOST.fullmatch(host):
        return None
    return parts


def http_url(value: Any) -> str | None:
    """`value` if it is an absolute http(s) URL with a plain host, else None."""
    return value if _split_http(value) is not None else None


def required_url(value: Any, what: str) -> str:
    if value is None:
        raise MalformedError(f"{what} is missing")
    url = http_url(value)
    if url is None:
        raise MalformedError(f"{what} is not an absolute http(s) URL: {str(value)[:100]!r}")
    return url


def origin_of(url: str) -> str:
    """The origin of an http(s) URL as "scheme://host[:port]": lower-cased, the default port
    dropped."""
    parts = _split_http(url)
    if parts is None:
        raise MalformedError(f"not an absolute http(s) URL: {url[:100]!r}")
    scheme = parts.scheme.lower()
    port = parts.port
    suffix = f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{parts.hostname}{suffix}"


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share an origin; False when either is not an http(s) URL."""
    try:
        return origin_of(a) == origin_of(b)
    except MalformedError:
        return False


def authority_of(url: str) -> str:
    """host[:port] of an http(s) URL, as a handle shows it."""
    return origin_of(url).split("://", 1)[1]


def same_host(a: str, b: str) -> bool:
    """Like same_origin, but http and https count as one: Pleroma serves http ids with https
    web URLs (its tesla_mock status_1234 fixture)."""
    try:
        return authority_of(a) == authority_of(b)
    except MalformedError:
        return False


def links_of(value: Any) -> list[tuple[str, str | None]]:
    """(href, mediaType) of every http(s) link in a `url`: bare strings, Link objects and lists
    of them (PeerTube lists a text/html page and its HLS playlists)."""
    found: list[tuple[str, str | None]] = []
    for item in as_list(value):
        media_type = None
        if isinstance(item, dict):
            media_type = item.get("mediaType") if isinstance(item.get("mediaType"), str) else None
            item = item.get("href")
        url = http_url(item)
        if url is not None:
            found.append((url, media_type))
    return found


def html_url(value: Any) -> str | None:
    """The web page among a `url`'s links: the text/html one, else the first untyped one."""
    links = links_of(value)
    pages = [href for href, media_type in links if media_type == "text/html"]
    untyped = [href for href, media_type in links if media_type is None]
    return next(iter(pages + untyped), None)


def dimension(value: Any) -> int | None:
    """A width or height in pixels, if it is a plausible one."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 100_000:
        return value
    return None


def image_url(value: Any) -> str | None:
    """The URL of an `icon`/`image`: a URL, an Image, or a list of Images (PeerTube sends two
    avatar sizes: the widest is taken)."""

    def width(image: Any) -> int:
        return (dimension(image.get("width")) or 0) if isinstance(image, dict) else 0

    for image in sorted(as_list(value), key=width, reverse=True):
        links = links_of(image.get("url") if isinstance(image, dict) else image)
        if links:
            return links[0][0]
    return None


def parse_datetime(value: Any, what: str = "date") -> datetime:
    """An ISO 8601 date (seconds, milliseconds, microseconds or Kroeg's seven digits; `Z` or
    an offset; none meaning UTC) as an aware UTC datetime between 1970 and 9999."""
    if not isinstance(value, str) or not value.isascii() or len(value) > MAX_DATE_LENGTH:
        raise MalformedError(f"{what} is not an ISO 8601 date: {str(value)[:MAX_DATE_LENGTH]!r}")
    try:
        parsed = datetime.fromisoformat(value)
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise MalformedError(f"{what} is not an ISO 8601 date: {value!r}") from None
    if not 1970 <= parsed.year <= 9999:
        raise MalformedError(f"{what} is not between 1970 and 9999: {value!r}")
    return parsed


def optional_datetime(value: Any) -> datetime | None:
    """A date that may be missing; one that cannot be read counts as missing."""
    try:
        return parse_datetime(value)
    except MalformedError:
        return None


def _visible(text: str, index: int) -> bool:
    char = text[index]
    if char == _ZWJ:
        # Kept only inside emoji sequences (👩‍💻, 🏳️‍🌈), where it is part of the picture.
        before = unicodedata.category(text[index - 1]) if index > 0 else ""
        after = unicodedata.category(text[index + 1]) if index + 1 < len(text) else ""
        return before in ("So", "Sk", "Mn") and after == "So"
    return char not in _INVISIBLE_LETTERS and unicodedata.category(char) not in ("Cc", "Cf")


def clean_text(value: str, max_length: int) -> str:
    """Plain text from remote HTML or text, safe to show as a name: markup removed, entities
    decoded once, bidi controls (U+202A-E, U+2066-9, U+200E/F, U+061C), zero-width and other
    control or format characters removed, whitespace collapsed, at most `max_length` long.
    "Admin" U+202E "gnp.exe" would otherwise display as "Adminexe.png"."""
    text = html.unescape(plain_text(value[:MAX_CONTENT_BYTES]))
    kept = (
        " " if char.isspace() else char
        for i, char in enumerate(text)
        if _visible(text, i) or char.isspace()
    )
    return " ".join("".join(kept).split())[:max_length].rstrip()


def check_size(html: str, what: str) -> str:
    """`html` if it is within MAX_CONTENT_BYTES, else MalformedError."""
    if len(html.encode()) > MAX_CONTENT_BYTES:
        raise MalformedError(f"{what} is over {MAX_CONTENT_BYTES} bytes")
    return html


def text_of(value: Any, max_length: int) -> str:
    return clean_text(value, max_length) if isinstance(value, str) else ""


def language_tag(value: Any) -> str | None:
    """A BCP 47-looking tag ("en", "pt-BR", "zh-Hant-TW"); "und" (undetermined) is none."""
    if isinstance(value, str) and _LANGUAGE.fullmatch(value) and value.lower() != "und":
        return value
    return None


def localized(document: dict[str, Any], key: str) -> tuple[str | None, str | None]:
    """A natural-language property and its language: `key` itself when it is a non-empty
    string (authoritative: Friendica's contentMap differs from its content), else the first
    entry of `keyMap`. The language is the map key whose text is the value, else the first."""
    value = document.get(key)
    mapped = document.get(f"{key}Map")
    entries = [
        (language, text)
        for language, text in (mapped.items() if isinstance(mapped, dict) else ())
        if isinstance(text, str)
    ][:MAX_LIST_ITEMS]
    if isinstance(value, str) and value:
        match = next((lang for lang, text in entries if text == value), None)
        return value, language_tag(match or (entries[0][0] if entries else None))
    if entries:
        return entries[0][1], language_tag(entries[0][0])
    return None, None


def recipients(value: Any) -> tuple[str, ...]:
    """`to`/`cc` as ids: every spelling of Public as AS_PUBLIC, other entries only when they are
    http(s) URLs, each once."""
    found: dict[str, None] = {}
    for item in ids_of(value):
        if item in PUBLIC_ALIASES:
            found[AS_PUBLIC] = None
        elif http_url(item) is not None:
            found[item] = None
    return tuple(found)


def _is_followers_collection(url: str) -> bool:
    # Mastodon, Pleroma, Misskey, Lemmy, WordPress: …/followers; Friendica: /followers/<name>;
    # GNU social: …/subscribers.
    segments = urlsplit(url).path.rstrip("/").split("/")
    return segments[-1] in ("followers", "subscribers") or (
        len(segments) > 2 and segments[-2] == "followers"
    )


def visibility_of(to: Sequence[str], cc: Sequence[str], followers: str | None = None) -> Visibility:
    """Mastodon's reading of the addressing (ActivityPub::Parser::StatusParser#visibility):
    Public in `to` is PUBLIC, Public in `cc` only is UNLISTED. Otherwise a followers
    collection among the recipients (the author's `followers`, when known, or any URL shaped
    like one) is FOLLOWERS, and actors only is DIRECT.

    Only PUBLIC and UNLISTED may be shown to everyone; FOLLOWERS and DIRECT are both private,
    so guessing wrong between them (a user named "followers") exposes nothing."""
    if any(recipient in PUBLIC_ALIASES for recipient in to):
        return Visibility.PUBLIC
    if any(recipient in PUBLIC_ALIASES for recipient in cc):
        return Visibility.UNLISTED
    if any(r == followers or _is_followers_collection(r) for r in [*to, *cc]):
        return Visibility.FOLLOWERS
    return Visibility.DIRECT
