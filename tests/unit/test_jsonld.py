"""JSON-LD processing uses bundled contexts only and turns every failure into MalformedError."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from fedipub import jsonld, vocab
from fedipub.errors import MalformedError

AS = "https://www.w3.org/ns/activitystreams#"
OPERATIONS: dict[str, Callable[[dict[str, Any]], object]] = {
    "expand": jsonld.expand,
    "compact": lambda document: jsonld.compact(document, vocab.AS_CONTEXT),
    "normalize": jsonld.normalize,
}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every attempt to resolve or connect is recorded, and fails."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.mark.parametrize(
    "url",
    [
        vocab.AS_CONTEXT,
        "http://www.w3.org/ns/activitystreams",
        "https://www.w3.org/ns/activitystreams.jsonld",
        "http://www.w3.org/ns/activitystreams.jsonld",
        vocab.SECURITY_CONTEXT,
        "http://w3id.org/security/v1",
        vocab.IDENTITY_CONTEXT,
        vocab.DATA_INTEGRITY_V1_CONTEXT,
        vocab.DATA_INTEGRITY_V2_CONTEXT,
        vocab.MULTIKEY_CONTEXT,
        vocab.DID_CONTEXT,
        vocab.GOTOSOCIAL_CONTEXT,
    ],
)
def test_every_bundled_context_loads_from_the_package(url: str, no_network: list[object]) -> None:
    remote = jsonld.load_bundled_context(url)

    assert remote["documentUrl"] == url
    assert isinstance(remote["document"]["@context"], dict)
    assert no_network == []


def test_the_four_spellings_of_the_activitystreams_context_mean_the_same() -> None:
    spellings = [
        "https://www.w3.org/ns/activitystreams",
        "http://www.w3.org/ns/activitystreams",
        "https://www.w3.org/ns/activitystreams.jsonld",
        "http://www.w3.org/ns/activitystreams.jsonld",
    ]
    expanded = [
        jsonld.expand({"@context": url, "type": "Note", "content": "hi"}) for url in spellings
    ]

    assert expanded[0] == [{"@type": [AS + "Note"], AS + "content": [{"@value": "hi"}]}]
    assert all(each == expanded[0] for each in expanded)


def test_compact_and_normalize_round_trip_a_note() -> None:
    note = {"@context": vocab.AS_CONTEXT, "id": "https://a.example/n/1", "type": "Note"}

    assert jsonld.compact(jsonld.expand(note), vocab.AS_CONTEXT) == note
    assert jsonld.normalize(note) == (
        "<https://a.example/n/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        "<https://www.w3.org/ns/activitystreams#Note> .\n"
    )


@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_unknown_remote_context_is_refused_without_touching_the_network(
    operation: str, no_network: list[object]
) -> None:
    document = {"@context": [vocab.AS_CONTEXT, "https://evil.example/ns"], "type": "Note"}

    with pytest.raises(MalformedError, match=re.escape("https://evil.example/ns")):
        OPERATIONS[operation](document)
    assert no_network == []


def _nested(depth: int) -> dict[str, Any]:
    document: dict[str, Any] = {"@context": vocab.AS_CONTEXT, "type": "Note"}
    inner = document
    for _ in range(depth):
        inner["inReplyTo"] = {"type": "Note"}
        inner = inner["inReplyTo"]
    return document


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"@context": 5}, id="context-number"),
        pytest.param({"@context": vocab.AS_CONTEXT, "id": 5}, id="id-number"),
        pytest.param({"@context": {"@import": "https://evil.example/c"}, "a": 1}, id="import"),
        # Each of these made pyld 3.3 raise a bare KeyError, ValueError or TypeError.
        pytest.param(
            {"@context": [vocab.AS_CONTEXT, {"@language": None}], "content": "x"},
            id="language-null",
        ),
        pytest.param(
            {"@context": [vocab.AS_CONTEXT, {"@import": "x"}], "content": "x"},
            id="import-relative",
        ),
        pytest.param(
            {"@context": [vocab.AS_CONTEXT, {"foo": {"@id": []}}], "foo": "x"}, id="id-list"
        ),
        pytest.param(_nested(2000), id="deep"),
    ],
)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_hostile_documents_are_malformed(
    document: dict[str, Any], operation: str, no_network: list[object]
) -> None:
    with pytest.raises(MalformedError):
        OPERATIONS[operation](document)
    assert no_network == []


def _alike_collections(items: int, copies: int) -> dict[str, Any]:
    collection = {"type": "Collection", "items": [{"type": "Note"} for _ in range(items)]}
    return {
        "@context": vocab.AS_CONTEXT,
        "id": "https://a.example/n/1",
        "type": "Note",
        "attachment": [collection] * copies,
    }


def test_a_poison_graph_is_refused_before_canonicalization_runs_away() -> None:
    # Unbounded, pyld spends ~10 s on this 428-byte document (RDF Canonicalization §4.8).
    with pytest.raises(MalformedError, match="too costly"):
        jsonld.normalize(_alike_collections(items=8, copies=2))


def test_blank_nodes_that_hash_alike_in_modest_numbers_canonicalize() -> None:
    mention = {"type": "Mention", "href": "https://b.example/u/1", "name": "@u"}
    note = {**_alike_collections(items=4, copies=2), "tag": [mention] * 50}

    # 50 + 10 anonymous objects, each alike to others, each given its canonical label.
    assert jsonld.normalize(note).count("#Mention> .") == 50


def test_xsd_datetime_is_utc_to_the_second() -> None:
    moment = datetime(2024, 9, 12, 18, 50, 46, 123456, tzinfo=timezone(timedelta(hours=2)))

    assert jsonld.xsd_datetime(moment) == "2024-09-12T16:50:46Z"
    assert jsonld.xsd_datetime(moment.astimezone(UTC)) == "2024-09-12T16:50:46Z"
    with pytest.raises(ValueError, match="timezone"):
        jsonld.xsd_datetime(datetime(2024, 9, 12))
