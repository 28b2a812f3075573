"""The hash chain behind the audit trail.

Each event's hash covers its own fields and its predecessor's hash, so any
change, insertion or removal shows up in ``verify``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def event_hash(fields: dict[str, Any], prev_hash: str) -> str:
    canonical = json.dumps(
        {**fields, "prev_hash": prev_hash}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def hashed_fields(
    *,
    id: int,
    at: datetime,
    actor_id: int | None,
    organisation_id: int | None,
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
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "ip": ip,
        "device": device,
        "detail": detail,
    }


@dataclass(frozen=True)
class Break:
    """Where the chain first stops adding up."""

    position: int
    reason: str
