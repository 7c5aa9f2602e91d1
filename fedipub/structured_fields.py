"""RFC 8941 Structured Field Values: the subset HTTP signatures and digests need.

Dictionaries, inner lists, parameters, integers, strings, tokens, byte sequences and booleans;
no decimals and no top-level lists. Invalid syntax raises `MalformedError` (400).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from fedipub.errors import MalformedError, SignatureError


class Token(str):
    """An RFC 8941 §3.3.4 token, kept apart from strings because it serializes unquoted."""


BareItem = int | bool | str | bytes
Params = tuple[tuple[str, BareItem], ...]


@dataclass(frozen=True)
class Item:
    value: BareItem
    params: Params = ()


@dataclass(frozen=True)
class InnerList:
    items: tuple[Item, ...]
    params: Params = ()


KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_INTEGER = re.compile(r"-?[0-9]{1,15}(?![0-9.])")  # a decimal fails here: not in our subset
_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")
_BOOLEAN = re.compile(r"\?[01]")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")


class _Reader:
    """A cursor over one field value, following the parsing algorithms of RFC 8941 §4.2."""

    def __init__(self, text: str) -> None:
        if not text.isascii():
            raise MalformedError("structured field is not ASCII")
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip(self, chars: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def take(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        match = pattern.match(self.text, self.pos)
        if match is None:
            raise MalformedError(f"structured field: expected {what} at offset {self.pos}")
        self.pos = match.end()
        return match

    def bare_item(self) -> BareItem:
        first = self.peek()
        if first == "-" or first.isdigit():
            return int(self.take(_INTEGER, "an integer").group())
        if first == '"':
            return re.sub(r"\\(.)", r"\1", self.take(_STRING, "a string").group(1))
        if first == ":":
            encoded = self.take(_BYTES, "a byte sequence").group(1)
            try:
                return base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise MalformedError("structured field: byte sequence is not base64") from None
        if first == "?":
            return self.take(_BOOLEAN, "a boolean").group() == "?1"
        if first == "*" or first.isalpha():
            return Token(self.take(_TOKEN, "a token").group())
        raise MalformedError(f"structured field: unexpected {first!r} at offset {self.pos}")

    def params(self) -> Params:
        params: list[tuple[str, BareItem]] = []
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            key = self.take(KEY, "a parameter key").group()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            # RFC 8941 keeps the last of duplicate keys; two values for one parameter is what
            # a smuggling attempt looks like, so we refuse instead.
            if any(key == seen for seen, _ in params):
                raise MalformedError(f"structured field: duplicate parameter {key}")
            params.append((key, value))
        return tuple(params)

    def item_or_inner_list(self) -> Item | InnerList:
        if self.peek() != "(":
            return Item(self.bare_item(), self.params())
        self.pos += 1
        items: list[Item] = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.params())
            items.append(Item(self.bare_item(), self.params()))
            if self.peek() not in (" ", ")"):
                raise MalformedError("structured field: inner list is not closed")


def parse_dictionary(text: str) -> dict[str, Item | InnerList]:
    """Parse an RFC 8941 §3.2 dictionary, refusing duplicate keys."""
    reader = _Reader(text)
    reader.skip(" ")
    members: dict[str, Item | InnerList] = {}
    while reader.pos < len(text):
        key = reader.take(KEY, "a dictionary key").group()
        if reader.peek() == "=":
            reader.pos += 1
            member = reader.item_or_inner_list()
        else:
            member = Item(True, reader.params())
        if key in members:
            raise MalformedError(f"structured field: duplicate key {key}")
        members[key] = member
        reader.skip(" \t")
        if reader.pos == len(text):
            break
        if reader.peek() != ",":
            raise MalformedError(f"structured field: expected ',' at offset {reader.pos}")
        reader.pos += 1
        reader.skip(" \t")
        if reader.pos == len(text):
            raise MalformedError("structured field: trailing comma")
    return members


def serialize_bare(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Token):
        return str(value)
    if isinstance(value, str):
        if not _PRINTABLE.fullmatch(value):
            raise SignatureError("structured field strings must be printable ASCII")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return ":" + base64.b64encode(value).decode("ascii") + ":"


def serialize_item(item: Item) -> str:
    params = "".join(
        f";{key}" if value is True else f";{key}={serialize_bare(value)}"
        for key, value in item.params
    )
    return serialize_bare(item.value) + params
