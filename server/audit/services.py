"""Writing audit events: in the transaction of the change they describe."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from server.audit import keys
from server.audit.chain import GENESIS, VERSION, Break, event_mac, fields_of, hashed_fields
from server.audit.models import AuditEvent, AuditHead
from server.audit.verification import all_events, legacy_break, verify

__all__ = ["SYSTEM", "Actor", "Break", "Event", "record", "record_many", "upgrade", "verify"]

logger = logging.getLogger("homeward.audit")

# Events that change nothing (reads, refusals, sign-in and out, exports, pulls):
# they are written in a transaction of their own. Every other event describes
# a change and must be written inside that change's transaction.
STANDALONE = frozenset(
    {
        "access.denied",
        "audit.read",
        "calendar.read",
        "demo.load",
        "enrolment.failed",
        "participant.listed",
        "participant.subject_access",
        "signin",
        "signin.failed",
        "signout",
        "sync.pull",
        "sync.push",  # a summary: each change in the batch has its own event
    }
)


# Lock the chain's head and read it, in one statement (``_claim``).
CLAIM = "UPDATE audit_head SET length = length WHERE id = 1 RETURNING id, length, hash, version"


class OutsideTransaction(UserWarning):
    """A change's audit event was written after (not with) the change."""


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
    object_organisation_id: int | None = None


def standalone(action: str) -> bool:
    return action in STANDALONE or action.endswith(".read") or action.startswith("export.")


async def record(
    *,
    actor: Actor,
    action: str,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
    organisation_id: int | None = None,
    object_organisation_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction if there is one.

    Wrap a change and its event in one ``async with in_transaction():`` so
    both commit or neither does; the event joins that transaction. Outside a
    transaction only events that change nothing (``STANDALONE``, reads,
    exports) are expected; any other is written but flagged
    (``OutsideTransaction``), which makes the tests fail.

    Args:
        actor: who did it (``SYSTEM`` for the command line).
        action: a dotted verb such as ``participant.read``.
        object_type, object_id: the record it concerns.
        detail: small facts (never note contents or names).
        organisation_id: the organisation whose admins may read it; defaults
            to the actor's.
        object_organisation_id: the organisation holding the record, when
            it is not the actor's (its admins see the event too).

    Returns:
        The stored event.
    """
    event = Event(action, object_type, object_id, detail, organisation_id, object_organisation_id)
    conn = connections.get("default")
    if isinstance(conn, TransactionalDBClient):
        (stored,) = await record_many(conn, actor, [event])
        return stored
    if not standalone(action):
        logger.warning("audit event %s written outside its change's transaction", action)
        warnings.warn(action, OutsideTransaction, stacklevel=2)
    async with in_transaction() as own:
        (stored,) = await record_many(own, actor, [event])
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
    if head.version < VERSION:
        head = await _seal_legacy(conn, head)
    return await _append(conn, head, actor, events)


async def upgrade() -> int:
    """Seal a chain from before keyed MACs (``homeward migrate`` calls it).

    Returns:
        How many earlier events were sealed (0 if there was nothing to do).
    """
    async with in_transaction() as conn:
        head = await AuditHead.filter(id=1).using_db(conn).first()
        if head is None or head.version >= VERSION:
            return 0
        head = await _lock_head(conn)
        if head.version >= VERSION:
            return 0
        sealed = int(head.length)
        await _seal_legacy(conn, head)
    return sealed


async def _append(
    conn: Any, head: AuditHead, actor: Actor, events: Sequence[Event]
) -> list[AuditEvent]:
    key = keys.current()
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
            object_organisation_id=event.object_organisation_id,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            ip=actor.ip[:64],
            device=actor.device[:200],
            detail=event.detail or {},
        )
        mac = event_mac(fields, prev, key)
        rows.append(
            AuditEvent(
                id=position,
                at=at,
                actor_id=fields["actor_id"],
                organisation_id=fields["organisation_id"],
                object_organisation_id=event.object_organisation_id,
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                ip=fields["ip"],
                device=fields["device"],
                detail=fields["detail"],
                prev_hash=prev,
                hash=mac,
            )
        )
        prev = mac
    await AuditEvent.bulk_create(rows, using_db=conn)
    await (
        AuditHead.filter(id=1).using_db(conn).update(length=rows[-1].id, hash=prev, version=VERSION)
    )
    return rows


async def _seal_legacy(conn: Any, head: AuditHead) -> AuditHead:
    """Re-seal a version-1 chain with the key, then mark where that happened.

    The plain links are checked first and the verdict goes into the marker
    event: sealing cannot vouch for what happened before it, only make the
    trail tamper-evident from now on.
    """
    broken = await legacy_break(head, conn)
    key = keys.current()
    prev = GENESIS
    batch: list[AuditEvent] = []
    async for event in all_events(conn):
        event.prev_hash = prev
        event.hash = prev = event_mac(fields_of(event), prev, key)
        batch.append(event)
        if len(batch) == 500:
            await AuditEvent.bulk_update(batch, fields=["prev_hash", "hash"], using_db=conn)
            batch = []
    if batch:
        await AuditEvent.bulk_update(batch, fields=["prev_hash", "hash"], using_db=conn)
    # The last position, not the count: a gap left by a removed event stays
    # visible to ``verify`` instead of being renumbered away.
    last = await AuditEvent.all().using_db(conn).order_by("-id").first()
    length = last.id if last is not None else 0
    sealed = AuditHead(id=1, length=length, hash=prev, version=VERSION)
    marker = Event(
        "audit.sealed",
        object_type="audit",
        detail={"legacy_events": length, "legacy_intact": broken is None, "legacy_head": head.hash},
    )
    if broken is not None:
        logger.warning("audit trail sealed, but its earlier chain was broken: %s", broken)
    rows = await _append(conn, sealed, SYSTEM, [marker])
    return AuditHead(id=1, length=rows[-1].id, hash=rows[-1].hash, version=VERSION)


async def _lock_head(conn: Any) -> AuditHead:
    # A no-op UPDATE takes the lock; the first event ever creates the row
    # (ON CONFLICT DO NOTHING, so two first writers do not collide).
    head = await _claim(conn)
    if head is None:
        await AuditHead.bulk_create(
            [AuditHead(id=1, length=0, hash=GENESIS, version=VERSION)],
            ignore_conflicts=True,
            using_db=conn,
        )
        head = await _claim(conn)
        assert head is not None
    if head.length == 0 and await AuditEvent.all().using_db(conn).exists():
        # Someone removed the head: writing on would hide that. Verify says where.
        raise RuntimeError("The audit chain's head is missing; run `homeward audit verify`.")
    return head


async def _claim(conn: Any) -> AuditHead | None:
    """Lock the head row and read it in one statement (None: no head yet).

    Every audited change and read queues on this row, so the lock and the
    read share one round trip: the head is held for less time, and on
    SQLite the one connection is free a statement sooner.
    """
    rows = await conn.execute_query_dict(CLAIM)
    if not rows:
        return None
    row = rows[0]
    return AuditHead(
        id=int(row["id"]),
        length=int(row["length"]),
        hash=str(row["hash"]),
        version=int(row["version"]),
    )
