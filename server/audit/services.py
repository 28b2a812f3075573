"""Writing and verifying audit events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.audit.chain import GENESIS, Break, event_hash, hashed_fields
from server.audit.models import AuditEvent, AuditHead


@dataclass(frozen=True)
class Actor:
    """Who is acting, and from where: enough for the trail, nothing more."""

    user_id: int | None = None
    organisation_id: int | None = None
    ip: str = ""
    device: str = ""


SYSTEM = Actor()


@dataclass(frozen=True)
class Event:
    """One fact for the trail, before it takes its place in the chain."""

    action: str
    object_type: str = ""
    object_id: str = ""
    detail: dict[str, Any] | None = None
    organisation_id: int | None = None


async def record(
    *,
    actor: Actor,
    action: str,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
    organisation_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain.

    Args:
        actor: who did it (``SYSTEM`` for the command line).
        action: a dotted verb such as ``participant.read``.
        object_type, object_id: the record it concerns.
        detail: small facts (never note contents or names).
        organisation_id: the organisation whose admins may read it; defaults
            to the actor's.

    Returns:
        The stored event.
    """
    event = Event(action, object_type, object_id, detail, organisation_id)
    async with in_transaction() as conn:
        (stored,) = await record_many(conn, actor, [event])
    return stored


async def record_many(conn: Any, actor: Actor, events: Sequence[Event]) -> list[AuditEvent]:
    """Append ``events`` to the chain inside the caller's transaction ``conn``.

    The events are written with the change they describe, so a change and
    its trail commit (or roll back) together, and a batch pays for one
    chain-head lock and one insert instead of one transaction per event.
    Call it last in the transaction: other chain writers queue on the head
    until it commits.
    """
    if not events:
        return []
    # Claim the head row first: on PostgreSQL the UPDATE takes the row
    # lock, on SQLite the write lock, so chain writers queue here.
    head = await _lock_head(conn)
    at = datetime.now(UTC)
    prev = head.hash
    rows: list[AuditEvent] = []
    for position, event in enumerate(events, start=head.length + 1):
        fields = hashed_fields(
            id=position,
            at=at,
            actor_id=actor.user_id,
            organisation_id=event.organisation_id
            if event.organisation_id is not None
            else actor.organisation_id,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            ip=actor.ip[:64],
            device=actor.device[:200],
            detail=event.detail or {},
        )
        digest = event_hash(fields, prev)
        rows.append(
            AuditEvent(
                id=position,
                at=at,
                actor_id=fields["actor_id"],
                organisation_id=fields["organisation_id"],
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                ip=fields["ip"],
                device=fields["device"],
                detail=fields["detail"],
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    await AuditEvent.bulk_create(rows, using_db=conn)
    await AuditHead.filter(id=1).using_db(conn).update(length=rows[-1].id, hash=prev)
    return rows


async def _lock_head(conn: Any) -> AuditHead:
    # A no-op UPDATE takes the lock; the first event ever creates the row
    # (ON CONFLICT DO NOTHING, so two first writers do not collide).
    if not await AuditHead.filter(id=1).using_db(conn).update(length=F("length")):
        await AuditHead.bulk_create(
            [AuditHead(id=1, length=0, hash=GENESIS)], ignore_conflicts=True, using_db=conn
        )
        await AuditHead.filter(id=1).using_db(conn).update(length=F("length"))
    head: AuditHead = await AuditHead.filter(id=1).using_db(conn).get()
    return head


async def _events() -> AsyncIterator[AuditEvent]:
    last = 0
    while True:
        batch = await AuditEvent.filter(id__gt=last).order_by("id").limit(1000)
        if not batch:
            return
        for event in batch:
            yield event
        last = batch[-1].id


async def verify() -> Break | None:
    """Walk the chain from the start; return the first break, or None."""
    expected_prev = GENESIS
    position = 0
    async for event in _events():
        position += 1
        if event.id != position:
            return Break(position, "an event is missing before this position")
        if event.prev_hash != expected_prev:
            return Break(position, "the link to the previous event is broken")
        fields = hashed_fields(
            id=event.id,
            at=event.at,
            actor_id=event.actor_id,
            organisation_id=event.organisation_id,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            ip=event.ip,
            device=event.device,
            detail=event.detail,
        )
        if event_hash(fields, event.prev_hash) != event.hash:
            return Break(position, "the event was altered")
        expected_prev = event.hash
    head = await AuditHead.get_or_none(id=1)
    if head is not None and (head.length != position or head.hash != expected_prev):
        return Break(position + 1, "events were removed from the end")
    return None
