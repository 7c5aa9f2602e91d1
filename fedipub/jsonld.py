"""JSON-LD processing against bundled contexts only: expand, compact, URDNA2015 N-Quads.

Every pyld call here passes `load_bundled_context` as its document loader. It serves the context
files shipped in `fedipub/contexts/` and refuses any other URL, so a peer's document can never
make us fetch anything: no SSRF through `@context`, and no context that changed after a document
was signed. pyld's global default loader is never touched.

pyld's exceptions (and the few Python ones it leaks on hostile input) are translated here into
`MalformedError`, the only error this module raises.
"""

from __future__ import annotations

import copy
import functools
import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from pyld import jsonld as pyld
from pyld.canon import URDNA2015

from fedipub.errors import MalformedError
from fedipub.vocab import (
    AS_CONTEXT,
    DATA_INTEGRITY_V1_CONTEXT,
    DATA_INTEGRITY_V2_CONTEXT,
    DID_CONTEXT,
    GOTOSOCIAL_CONTEXT,
    IDENTITY_CONTEXT,
    MULTIKEY_CONTEXT,
    SECURITY_CONTEXT,
)

JSONObject = dict[str, Any]


_CONTEXT_FILES: dict[str, str] = {
    AS_CONTEXT: "activitystreams.jsonld",
    # Peers write the ActivityStreams context in all four spellings; it is one document.
    "http://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    "https://www.w3.org/ns/activitystreams.jsonld": "activitystreams.jsonld",
    "http://www.w3.org/ns/activitystreams.jsonld": "activitystreams.jsonld",
    SECURITY_CONTEXT: "security-v1.jsonld",
    # As written in a captured Mastodon Undo{Announce} (Pleroma's test fixtures).
    "http://w3id.org/security/v1": "security-v1.jsonld",
    IDENTITY_CONTEXT: "identity-v1.jsonld",
    DATA_INTEGRITY_V1_CONTEXT: "security-data-integrity-v1.jsonld",
    DATA_INTEGRITY_V2_CONTEXT: "security-data-integrity-v2.jsonld",
    MULTIKEY_CONTEXT: "security-multikey-v1.jsonld",
    DID_CONTEXT: "did-v1.jsonld",
    GOTOSOCIAL_CONTEXT: "gotosocial.jsonld",
}

# What pyld lets escape besides its JsonLdError. Seen with pyld 3.3 on hostile contexts:
# {"@language": null} → KeyError, {"@import": "x"} → ValueError, {"t": {"@id": []}} →
# TypeError (tests/unit/test_jsonld.py); deep nesting → RecursionError.
_PYLD_FAILURES = (pyld.JsonLdError, KeyError, ValueError, TypeError, RecursionError)


# URDNA2015 tries every order of the blank nodes that hash alike (RDF Dataset Canonicalization
# §4.8, "Hash N-Degree Quads"), so a small crafted document costs factorial time: 428 bytes
# holding two identical collections of eight anonymous items took 10 s here, nine took minutes.
# pyld 3.3 sets no limit. Documents from real servers stay far below these (tests measure).
_MAX_ALIKE_BLANK_NODES = 4  # at most 4! = 24 orders tried per group
_MAX_DEEP_HASHES = 1000


class _BoundedURDNA2015(URDNA2015):  # type: ignore[misc]  # pyld ships no type hints
    """pyld's URDNA2015, refusing a graph before its blank nodes cost too much to order."""

    def __init__(self) -> None:
        super().__init__()
        self._deep_hashes = 0

    def create_hash_to_related(self, id_: str, issuer: object) -> dict[str, list[str]]:
        # Runs once per Hash N-Degree Quads call (§4.8 steps 1-3), before the permutations.
        self._deep_hashes += 1
        related: dict[str, list[str]] = super().create_hash_to_related(id_, issuer)
        alike = max((len(nodes) for nodes in related.values()), default=0)
        if self._deep_hashes > _MAX_DEEP_HASHES or alike > _MAX_ALIKE_BLANK_NODES:
            raise MalformedError("JSON-LD document is too costly to canonicalize (poison graph)")
        return related


@functools.cache
def _bundled(filename: str) -> JSONObject:
    text = resources.files("fedipub").joinpath("contexts", filename).read_text("utf-8")
    document: JSONObject = json.loads(text)
    return document


def load_bundled_context(url: str, options: object = None) -> JSONObject:
    """The pyld document loader: a bundled context, or MalformedError for any other URL."""
    filename = _CONTEXT_FILES.get(url)
    if filename is None:
        raise MalformedError(
            f"unknown JSON-LD context {url!r}: only bundled contexts are used, none is fetched"
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        # A copy: pyld rewrites relative URLs inside the context document it is given.
        "document": copy.deepcopy(_bundled(filename)),
        # "static" lets pyld keep the processed context across calls (its shared LRU cache),
        # which is right for files that never change and saves re-processing them each time.
        "tag": "static",
    }


def _options(**extra: str) -> JSONObject:
    return {"documentLoader": load_bundled_context, **extra}


def _translate(error: Exception) -> MalformedError:
    """The MalformedError our loader raised, if that is the cause; else pyld's own reason."""
    innermost: BaseException = error
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, MalformedError):
            return cause
        innermost = cause
        cause = cause.__cause__
    if isinstance(innermost, RecursionError):
        return MalformedError("JSON-LD document is nested too deeply")
    if isinstance(innermost, pyld.JsonLdError):
        code = f" ({innermost.code})" if innermost.code else ""
        return MalformedError(f"invalid JSON-LD: {innermost.args[0]}{code}")
    return MalformedError(f"invalid JSON-LD: {type(innermost).__name__}")


def expand(document: JSONObject) -> list[JSONObject]:
    try:
        expanded: list[JSONObject] = pyld.expand(document, _options())
    except _PYLD_FAILURES as error:
        raise _translate(error) from error
    return expanded


def compact(document: JSONObject | list[JSONObject], context: str | list[Any]) -> JSONObject:
    try:
        compacted: JSONObject = pyld.compact(document, context, _options())
    except _PYLD_FAILURES as error:
        raise _translate(error) from error
    return compacted


def normalize(document: JSONObject) -> str:
    """The URDNA2015 canonical N-Quads of `document` (what Linked Data signatures hash)."""
    try:
        # What pyld.normalize does, with the bounded canonicalizer in place of its own.
        dataset = pyld.to_rdf(document, _options())
        nquads: str = _BoundedURDNA2015().main(dataset, {"format": "application/n-quads"})
    except _PYLD_FAILURES as error:
        raise _translate(error) from error
    return nquads


def xsd_datetime(moment: datetime) -> str:
    """`moment` as the xsd:dateTime peers expect in `created`/`published`: UTC, seconds, `Z`."""
    if moment.tzinfo is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
