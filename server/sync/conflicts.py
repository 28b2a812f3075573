"""Conflicts an officer resolves: two versions of one record, both kept.

A conflict arises when a phone sends a record id the server already has
with other content (a session log edited on two phones, a family answer to
an appointment that changed meanwhile). The officer responsible for the
participant sees both versions and either keeps the stored one or replaces
it with the other; the replaced version stays in the record's history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.appointments.models import Appointment
from server.audit.services import Actor, record
from server.enums import AppointmentStatus, FamilyResponse, Role
from server.errors import Invalid, NotFound
from server.forms import get_form
from server.forms.validator import validate
from server.i18n import N_
from server.sessions.models import SessionLog
from server.sessions.services import replace_content
from server.sync.models import Conflict
from server.sync.sequence import next_seq


@dataclass(frozen=True)
class OpenConflict:
    conflict: Conflict
    participant_code: str
    stored: dict[str, Any]
    other: dict[str, Any]


async def _participant_id(conflict: Conflict) -> uuid.UUID | None:
    if conflict.record_type == "session_log":
        log = await SessionLog.get_or_none(id=conflict.record_id)
        return log.participant_id if log else None
    appointment = await Appointment.get_or_none(id=conflict.payload.get("appointment"))
    return appointment.participant_id if appointment else None


async def open_conflicts(*, officer: User) -> list[OpenConflict]:
    """Unresolved conflicts about the officer's participants, oldest first."""
    if officer.role is not Role.OFFICER:
        return []
    mine = {p.id: p.code for p in await policy.participants_for(officer)}
    found = []
    for conflict in (
        await Conflict.filter(organisation_id=officer.organisation_id, resolved_at=None)
        .order_by("received_at")
        .limit(100)
    ):
        participant = await _participant_id(conflict)
        if participant in mine:
            found.append(
                OpenConflict(conflict, mine[participant], await _stored(conflict), _other(conflict))
            )
    return found


async def _stored(conflict: Conflict) -> dict[str, Any]:
    if conflict.record_type == "session_log":
        log = await SessionLog.get(id=conflict.record_id)
        return {
            "notes": log.notes,
            "attendance": log.attendance.value,
            "occurred_at": log.occurred_at.isoformat(),
        }
    appointment = await Appointment.get(id=conflict.payload["appointment"])
    return {
        "response": appointment.family_response.value if appointment.family_response else "",
        "message": appointment.family_message,
    }


def _other(conflict: Conflict) -> dict[str, Any]:
    if conflict.record_type == "session_log":
        values = conflict.payload.get("values", {})
        return {
            "notes": values.get("notes", ""),
            "attendance": values.get("attendance", ""),
            "occurred_at": f"{values.get('occurred_on', '')} {values.get('occurred_time', '')}",
        }
    return {
        "response": conflict.payload.get("response", ""),
        "message": conflict.payload.get("message", ""),
    }


async def resolve(
    *, officer: User, conflict_id: int, replace: bool, now: datetime, actor: Actor
) -> None:
    """Keep the stored version, or replace it with the conflicting one.

    Raises:
        NotFound: not a conflict about the officer's participants (audited).
        Invalid: the other version no longer passes its form's rules.
    """
    wanted = next(
        (c for c in await open_conflicts(officer=officer) if c.conflict.id == conflict_id), None
    )
    if wanted is None:
        raise await policy.denied(actor, "conflict", str(conflict_id))
    conflict = wanted.conflict
    async with in_transaction() as conn:
        if replace:
            await _apply(conflict, officer, now, conn)
        await (
            Conflict.filter(id=conflict.id)
            .using_db(conn)
            .update(
                resolved_at=now,
                resolved_by=officer,
                resolution="replaced" if replace else "kept",
                seq=await next_seq(conn),
            )
        )
    await record(
        actor=actor,
        action="conflict.resolved",
        object_type=conflict.record_type,
        object_id=str(conflict.record_id),
        detail={"resolution": "replaced" if replace else "kept"},
    )


async def _apply(conflict: Conflict, officer: User, now: datetime, conn: Any) -> None:
    payload = conflict.payload
    if conflict.record_type == "session_log":
        log = await SessionLog.get(id=conflict.record_id)
        form = get_form(str(payload.get("pillar")), int(payload.get("form_version", 0)))
        result = validate(form, payload.get("values", {}), now=now)
        if not result.ok:
            raise Invalid(N_("This version can no longer be saved as it is."))
        await replace_content(log=log, result=result, editor=officer, now=now, conn=conn)
        return
    appointment = await Appointment.get_or_none(id=payload.get("appointment"))
    if appointment is None:
        raise NotFound()
    answer = FamilyResponse(payload["response"])
    await (
        Appointment.filter(id=appointment.id)
        .using_db(conn)
        .update(
            family_response=answer,
            family_message=payload.get("message", ""),
            status=AppointmentStatus.CONFIRMED
            if answer is FamilyResponse.COMING
            else AppointmentStatus.SCHEDULED,
            version=appointment.version + 1,
            seq=await next_seq(conn),
            updated_at=now,
        )
    )
