"""The inbox pipeline. It fails closed, in this order: size cap (at the edge) → JSON →
signature, digest and date → signer is the activity's actor → … → 202."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson

from fedipub.errors import ActorMismatchError, MalformedError
from fedipub.verify import InboundRequest, Verified, Verifier

log = logging.getLogger("fedipub.inbox")


@dataclass(frozen=True)
class Receipt:
    activity_id: str
    activity_type: str
    signer: Verified


def _actor_of(document: dict[str, object]) -> str:
    actor = document.get("actor")
    if isinstance(actor, dict):
        actor = actor.get("id")
    if not isinstance(actor, str):
        raise MalformedError("the activity names no actor")
    return actor


async def receive(verifier: Verifier, request: InboundRequest) -> Receipt:
    try:
        document = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise MalformedError("the body is not JSON") from None
    if not isinstance(document, dict):
        raise MalformedError("the body is not a JSON object")
    activity_id = document.get("id")
    activity_type = document.get("type")
    if not isinstance(activity_id, str) or not isinstance(activity_type, str):
        raise MalformedError("the activity has no id or type")
    actor = _actor_of(document)
    signer = await verifier.verify(request)
    if signer.actor_id != actor:
        raise ActorMismatchError(f"signed by {signer.actor_id}, not by the actor {actor}")
    log.info("accepted %s %s from %s", activity_type, activity_id, actor)
    return Receipt(activity_id, activity_type, signer)
