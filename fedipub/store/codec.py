"""Conversions between Python values and SQLite columns, shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson


def to_db_time(value: datetime) -> str:
    """UTC ISO 8601 with microseconds: sorts as text in time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def optional_time(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)


def to_json(value: object) -> str:
    return orjson.dumps(value).decode("utf-8")


def from_json(value: str) -> object:
    return orjson.loads(value)
