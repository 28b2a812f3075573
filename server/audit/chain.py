"""The keyed chain behind the audit trail.

Each event's MAC (HMAC-SHA-256 under the audit key, ``server.audit.keys``)
covers every field of the event, its position and its predecessor's MAC.
Changing, inserting or removing an event shows up in ``verify``, and without
the key, which is not in the database, nobody can re-seal the events after
it. Truncating the newest events is caught by an anchor kept elsewhere
(``homeward audit anchor``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
# 1: plain SHA-256 links (before keyed MACs); 2: HMAC-SHA-256 under the audit key.
VERSION = 2


def event_mac(fields: dict[str, Any], prev_mac: str, key: bytes) -> str:
    canonical = json.dumps(
        {**fields, "prev_hash": prev_mac, "chain_version": VERSION},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def legacy_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """The version-1 link, only to check a chain written before keyed MACs."""
    old = {k: v for k, v in fields.items() if k != "object_organisation_id"}
    canonical = json.dumps(
        {**old, "prev_hash": prev_hash}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def hashed_fields(
    *,
    id: int,
    at: datetime,
    actor_id: int | None,
    organisation_id: int | None,
    object_organisation_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    ip: str,
    device: str,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "organisation_id": organisation_id,
        "object_organisation_id": object_organisation_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "ip": ip,
        "device": device,
        "detail": detail,
    }


def fields_of(event: Any) -> dict[str, Any]:
    """The MAC'd fields of a stored ``AuditEvent``."""
    return hashed_fields(
        id=event.id,
        at=event.at,
        actor_id=event.actor_id,
        organisation_id=event.organisation_id,
        object_organisation_id=event.object_organisation_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        ip=event.ip,
        device=event.device,
        detail=event.detail,
    )


@dataclass(frozen=True)
class Break:
    """Where the chain first stops adding up."""

    position: int
    reason: str
