"""Conflicts an officer resolves: two versions of one record, both kept.

A conflict arises when a phone sends a record id the server already has
with other content (a session log edited on two phones, a family answer to
an appointment that changed meanwhile). Only the record's author can send
under its id (``not_author`` otherwise), so both versions are the author's.
The officer responsible for the participant sees both versions, who sent
each, and either keeps the stored one or replaces it with the other; the
replaced version stays in the record's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.appointments.models import Appointment
from server.audit.services import Actor, record
from server.enums import AppointmentStatus, FamilyResponse, Role
from server.errors import Conflict as ConflictError
from server.errors import Invalid, NotFound
from server.forms import get_form
from server.forms.validator import validate
from server.i18n import N_
from server.sessions.models import SessionLog
from server.sessions.services import replace_content
from server.sync.models import Conflict
from server.sync.sequence import next_seq

OPEN = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)


@dataclass(frozen=True)
class OpenConflict:
    conflict: Conflict
    participant_code: str
    stored: dict[str, Any]
    other: dict[str, Any]
    stored_by: str  # who sent the saved version
    other_by: str  # who sent the other version


async def open_conflicts(*, officer: User) -> list[OpenConflict]:
    """Every unresolved conflict about the officer's participants, oldest first."""
    if officer.role is not Role.OFFICER:
        return []
    found = []
    conflicts = (
        await policy.conflicts_to_resolve(officer)
        .filter(resolved_at=None)
        .order_by("received_at", "id")
        .prefetch_related("author")
    )
    for conflict in conflicts:
        shown = await _show(officer, conflict)
        if shown is not None:
            found.append(shown)
    return found


async def _show(officer: User, conflict: Conflict) -> OpenConflict | None:
    if conflict.record_type == "session_log":
        log = (
            await policy.conflicting_log(conflict).prefetch_related("participant", "author").first()
        )
        if log is None:
            return None
        stored = {
            "notes": log.notes,
            "attendance": log.attendance.value,
            "occurred_at": log.occurred_at.isoformat(),
        }
        return OpenConflict(
            conflict,
            log.participant.code,
            stored,
            _other(conflict),
            log.author.name,
            conflict.author.name,
        )
    appointment = (
        await policy.conflicting_appointment(officer, conflict)
        .prefetch_related("participant")
        .first()
    )
    if appointment is None:
        return None
    stored = {
        "response": appointment.family_response.value if appointment.family_response else "",
        "message": appointment.family_message,
    }
    # The saved answer is the family's; who gave it is not kept on the appointment.
    return OpenConflict(
        conflict, appointment.participant.code, stored, _other(conflict), "", conflict.author.name
    )


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
        NotFound: not an open conflict about the officer's participants (audited).
        Invalid: the other version no longer passes its form's rules.
        Conflict: the other version cannot be applied as it was said (sent
            by someone other than the log's author; an answer for an
            appointment since cancelled, done or moved).
    """
    conflict = (
        await policy.conflicts_to_resolve(officer)
        .filter(id=conflict_id, resolved_at=None)
        .prefetch_related("author")
        .first()
    )
    if conflict is None:
        raise await policy.denied(actor, "conflict", str(conflict_id))
    async with in_transaction() as conn:
        if replace:
            await _apply(conflict, officer, now, conn)
        await (
            policy.row(conflict)
            .filter(resolved_at=None)
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
    if conflict.record_type == "session_log":
        await _apply_log(conflict, officer, now, conn)
    else:
        await _apply_answer(conflict, officer, now, conn)


async def _apply_log(conflict: Conflict, officer: User, now: datetime, conn: Any) -> None:
    payload = conflict.payload
    log: SessionLog | None = await policy.conflicting_log(conflict).using_db(conn).first()
    if log is None:
        raise NotFound()
    if log.author_id != conflict.author.id:
        # Kept before ids were checked: never put into someone else's log.
        raise ConflictError(N_("This version was sent by another person and cannot replace it."))
    form = get_form(str(payload.get("pillar")), int(payload.get("form_version", 0)))
    # The date and time were typed in the author's zone, not the officer's.
    author: User = conflict.author
    result = validate(form, payload.get("values", {}), now=now, tz=ZoneInfo(author.time_zone))
    if not result.ok:
        raise Invalid(N_("This version can no longer be saved as it is."))
    await replace_content(log=log, result=result, editor=officer, now=now, conn=conn)


async def _apply_answer(conflict: Conflict, officer: User, now: datetime, conn: Any) -> None:
    """Put a family's answer on the appointment, only if it still means what was said.

    Like the live path: never on a cancelled or done appointment, never on
    one moved since the family answered (its version moved for more than
    family answers), and conditional on the version read here.
    """
    payload = conflict.payload
    gone = ConflictError(
        N_(
            "This appointment was cancelled or changed after the family answered, "
            "so their answer cannot be used. Please ask them again."
        )
    )
    appointment: Appointment | None = (
        await policy.conflicting_appointment(officer, conflict).using_db(conn).first()
    )
    if appointment is None or appointment.status not in OPEN:
        raise gone
    try:
        base = int(payload.get("base_version", -1))
        answer = FamilyResponse(str(payload.get("response")))
    except (TypeError, ValueError):
        raise Invalid(N_("This version can no longer be saved as it is.")) from None
    answered = await (
        policy.applied_family_answers(appointment.id, from_version=base).using_db(conn).count()
    )
    if base < 1 or appointment.version - base != answered:
        raise gone  # moved (or cancelled and reopened) since the family saw it
    updated = await (
        policy.conflicting_appointment(officer, conflict)
        .filter(version=appointment.version, status__in=OPEN)
        .using_db(conn)
        .update(
            family_response=answer,
            family_message=str(payload.get("message", "")),
            status=AppointmentStatus.CONFIRMED
            if answer is FamilyResponse.COMING
            else AppointmentStatus.SCHEDULED,
            version=F("version") + 1,
            seq=await next_seq(conn),
            updated_at=now,
        )
    )
    if not updated:
        raise gone
