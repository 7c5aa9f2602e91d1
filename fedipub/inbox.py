"""The inbox pipeline. It fails closed, in this order (../shared/STYLE.md rule 7):

size cap (at the edge, 413) → JSON with depth and size limits (400) → per-host rate limit
(429) → signature, digest and date (401) → signer is the actor, or a forwarded activity proven
by its LD signature or by its origin (401) → origin checks (401/403) → idempotency by activity
id (202, nothing changes) → blocks (202, nothing stored) → the handler stores → 202.

Every outcome, refusals included, is written to the audit trail (`fedipub inbox-log`), so "why
is this reply not showing?" has an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from fedipub.actors import ActorDirectory
from fedipub.blog import Blog
from fedipub.errors import (
    ActorMismatchError,
    FetchError,
    MalformedError,
    ProtocolError,
    RateLimitedError,
    SignatureError,
)
from fedipub.fetch import Fetcher
from fedipub.ldsig import ld_signature_creator, verify_ld_signature
from fedipub.outbox import Outbox
from fedipub.parse import Activity, origin_of, parse_activity, parse_json_body, same_origin
from fedipub.proofs import proof_verification_method, verify_object_proof
from fedipub.ratelimit import RateLimiter
from fedipub.store import Store
from fedipub.types import InboxLogEntry, InboxOutcome, Notification
from fedipub.verify import InboundRequest, Verifier

log = logging.getLogger("fedipub.inbox")

Notify = Callable[[Notification], Awaitable[None]]


@dataclass(frozen=True)
class Result:
    outcome: InboxOutcome
    reason: str
    notification: Notification | None = None


@dataclass(frozen=True)
class InboxContext:
    store: Store
    blog: Blog
    verifier: Verifier
    fetcher: Fetcher
    actors: ActorDirectory
    outbox: Outbox
    limiter: RateLimiter
    notify: Notify
    clock: Callable[[], float]

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)


Handler = Callable[[InboxContext, Activity], Awaitable[Result]]


def _host(url: str) -> str:
    return origin_of(url).split("://", 1)[1].split(":")[0]


async def _check_proof(ctx: InboxContext, activity: Activity, document: dict[str, Any]) -> None:
    """A FEP-8b32 integrity proof, when present, must be the actor's and must verify."""
    method = proof_verification_method(document)
    if method is None:
        raise SignatureError("the proof names no verification method")
    key = await ctx.verifier.resolve_key(method)
    if key.owner != activity.actor:
        raise ActorMismatchError("the proof is not the actor's")
    if not isinstance(key.public_key, Ed25519PublicKey):
        raise SignatureError("an eddsa-jcs-2022 proof needs an Ed25519 key")
    verify_object_proof(document, key.public_key)


async def _forwarded(ctx: InboxContext, activity: Activity, document: dict[str, Any]) -> Activity:
    """An activity delivered by someone other than its actor (Mastodon forwards replies to the
    followers of the replied-to post's author). Believed only with the actor's own integrity
    proof or LD signature, or by fetching its object from the object's origin."""
    if "proof" in document:
        await _check_proof(ctx, activity, document)
        return activity
    creator = ld_signature_creator(document)
    if creator is not None:
        key = await ctx.verifier.resolve_key(creator)
        if key.owner != activity.actor:
            raise ActorMismatchError("the LD signature is not the actor's")
        if not isinstance(key.public_key, RSAPublicKey):
            raise SignatureError("an LD signature needs an RSA key")
        compacted = verify_ld_signature(document, key.public_key)
        # Use the verified graph, never the forwarded JSON shape (Mastodon CVE-2022-24307).
        return parse_activity(compacted)
    if activity.type in ("Create", "Update") and activity.object_id is not None:
        if not same_origin(activity.object_id, activity.actor):
            raise ActorMismatchError("a forwarded object must come from its actor's server")
        fetched = await ctx.fetcher.fetch_object(activity.object_id)
        return Activity(**{**activity.__dict__, "object": fetched})
    raise ActorMismatchError(f"not signed by the actor {activity.actor}")


def _check_origins(activity: Activity) -> None:
    """What an actor may say is limited to its own server's objects (Fedify
    GHSA-4qhx-hhwf-8685, GHSA-r388-57j3-5fgp; Lemmy #1196)."""
    if not same_origin(activity.id, activity.actor):
        raise ActorMismatchError("the activity id is not on the actor's server")
    embedded = activity.object
    if activity.type in ("Create", "Update") and embedded is not None:
        object_id = embedded.get("id")
        if not isinstance(object_id, str) or not same_origin(object_id, activity.actor):
            raise ActorMismatchError("the object is not on the actor's server")


class Inbox:
    def __init__(
        self,
        ctx: InboxContext,
        handlers: dict[str, Handler],
        *,
        on_outcome: Callable[[InboxOutcome, str], None] | None = None,
    ) -> None:
        self._ctx = ctx
        self._handlers = handlers
        # Told every outcome with its reason (the server's metrics count them).
        self._on_outcome = on_outcome

    async def receive(self, request: InboundRequest) -> Result:
        ctx = self._ctx
        activity: Activity | None = None
        try:
            document = parse_json_body(request.body)
            activity = parse_activity(document)
            # Keyed by the sending address, not the claimed actor's host: anyone can claim to
            # be mastodon.social and would otherwise drain its allowance.
            wait = ctx.limiter.acquire(request.client or _host(activity.actor))
            if wait:
                raise RateLimitedError("too many requests from this host", int(wait) + 1)
            signer = await ctx.verifier.verify(request)
            if signer.actor_id != activity.actor:
                activity = await _forwarded(ctx, activity, document)
            elif "proof" in document:
                await _check_proof(ctx, activity, document)
            _check_origins(activity)
            result = await self._dispatch(activity)
        except ProtocolError as exc:
            await self._record(activity, InboxOutcome.REJECTED, f"{exc.status}: {exc.reason}")
            raise
        except FetchError as exc:
            # A document the activity needs (its object, its actor) cannot be had: refused,
            # and nothing stored; the sender may deliver it again later.
            reason = f"cannot fetch {exc.url}: {exc.reason}"
            await self._record(activity, InboxOutcome.REJECTED, reason)
            raise MalformedError(reason) from None
        await self._record(activity, result.outcome, result.reason)
        if result.notification is not None:
            await ctx.notify(result.notification)
        return result

    async def _dispatch(self, activity: Activity) -> Result:
        ctx = self._ctx
        if await ctx.store.inbox_log.seen(activity.id):
            return Result(InboxOutcome.DUPLICATE, "already received")
        if await ctx.store.moderation.is_blocked(activity.actor, _host(activity.actor)):
            return Result(InboxOutcome.IGNORED, "the actor or its domain is blocked")
        handler = self._handlers.get(activity.type)
        if handler is None:
            result = Result(InboxOutcome.IGNORED, f"{activity.type} is not handled")
        else:
            result = await handler(ctx, activity)
        await ctx.store.inbox_log.mark_seen(activity.id, ctx.now())
        return result

    async def _record(self, activity: Activity | None, outcome: InboxOutcome, reason: str) -> None:
        log.info(
            "%s %s %s from %s: %s",
            outcome.value,
            activity.type if activity else "-",
            activity.id if activity else "-",
            activity.actor if activity else "-",
            reason,
        )
        if self._on_outcome is not None:
            self._on_outcome(outcome, reason)
        await self._ctx.store.inbox_log.record(
            InboxLogEntry(
                received=self._ctx.now(),
                activity_id=activity.id if activity else None,
                activity_type=activity.type if activity else None,
                actor=activity.actor if activity else None,
                outcome=outcome,
                reason=reason,
            )
        )
