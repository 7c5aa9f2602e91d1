"""Untrusted ActivityStreams 2.0 JSON → typed, validated values. Pure: no I/O.

Every value from the network is hostile: a `parse_*` function returns a fully valid frozen
dataclass or raises MalformedError with a one-line reason. Optional fields that cannot be read
are dropped (a `javascript:` avatar becomes no avatar); required ones refuse the document.
AS2's camelCase stays inside this package: the dataclasses are snake_case.

    values     the JSON body, ids, URLs and origins, dates, plain text, addressing
    activity   Activity: the envelope of what arrives in an inbox
    note       RemoteNote and its attachments: a post that can become a comment
    tags       emojis, mentions and hashtags
    actor      RemoteActor
"""

from fedipub.parse.activity import Activity, parse_activity, parse_deleted_object_id
from fedipub.parse.actor import RemoteActor, parse_actor
from fedipub.parse.note import Attachment, RemoteNote, parse_note
from fedipub.parse.tags import Emoji, Mention
from fedipub.parse.values import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    clean_text,
    first_id,
    ids_of,
    kind_of,
    origin_of,
    parse_datetime,
    parse_json_body,
    same_origin,
    visibility_of,
)
from fedipub.types import Visibility

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "Activity",
    "Attachment",
    "Emoji",
    "Mention",
    "RemoteActor",
    "RemoteNote",
    "Visibility",
    "clean_text",
    "first_id",
    "ids_of",
    "kind_of",
    "origin_of",
    "parse_activity",
    "parse_actor",
    "parse_datetime",
    "parse_deleted_object_id",
    "parse_json_body",
    "parse_note",
    "same_origin",
    "visibility_of",
]
