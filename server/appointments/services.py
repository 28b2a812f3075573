"""Appointments: scheduled by the officer, seen by the participant's workers.

Access follows the participant (``server.policy``): an officer manages the
appointments of the participants they are responsible for; a worker sees
those of the participants assigned to them, read-only (the same set their
phone pulls). Every change bumps ``version`` (what an offline phone saw) and
takes a change number inside its transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.appointments.forms import AppointmentInput
from server.appointments.models import Appointment
from server.audit.services import Actor, record
from server.enums import AppointmentStatus, Role
from server.errors import Conflict
from server.i18n import N_
from server.participants.models import Participant
from server.sync.sequence import next_seq

OPEN = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
UPCOMING_LIMIT = 20


async def participant_workers(participant: Participant) -> list[User]:
    """The workers assigned to the participant: who an appointment can be with."""
    return await participant.workers.filter(is_active=True).order_by("name")


async def visible(*, user: User, appointment_id: Any, actor: Actor) -> Appointment:
    """An appointment a staff member may open (``policy.appointment_for``), or NotFound."""
    if user.role not in (Role.OFFICER, Role.WORKER):  # families read theirs in ``family``
        raise await policy.denied(actor, "appointment", str(appointment_id))
    return await policy.appointment_for(user, appointment_id, actor)


async def read(*, user: User, appointment_id: Any, actor: Actor) -> Appointment:
    """Open an appointment for reading, and audit the read."""
    appointment = await visible(user=user, appointment_id=appointment_id, actor=actor)
    await _audit(actor, "appointment.read", appointment)
    return appointment


async def managed(*, user: User, appointment_id: Any, actor: Actor) -> Appointment:
    """An appointment the user may change (the responsible officer), or NotFound."""
    return await policy.managed_appointment(user, appointment_id, actor)


async def schedule(
    *, officer: User, participant: Participant, data: AppointmentInput, actor: Actor
) -> Appointment:
    """Schedule an appointment.

    Args:
        officer: the responsible officer (who created it).
        participant: from ``participants.services.responsible_for`` (the access check).
        data: the checked form, times in UTC (``forms.check_appointment``).
    """
    async with in_transaction() as conn:
        appointment = await Appointment.create(
            using_db=conn,
            participant=participant,
            created_by=officer,
            seq=await next_seq(conn),
            **_columns(data),
        )
        await _audit(actor, "appointment.created", appointment)
    return appointment


async def move(
    *, appointment: Appointment, data: AppointmentInput, version: int, actor: Actor
) -> Appointment:
    """Change an open appointment (time, place, with whom…).

    Args:
        appointment: from ``managed`` (the access check).
        data: the checked form, times in UTC.
        version: the version the officer's form was made from.

    Raises:
        Conflict: it is cancelled or done, or it changed since the form was made
            (someone else, or a phone).
    """
    must_be_open(appointment)
    columns = _columns(data)
    if (data.starts_at, data.ends_at) != (appointment.starts_at, appointment.ends_at):
        # The family answered for the old time: ask them again, and show them
        # the appointment as moved from its old start (family page, issue 17).
        columns.update(
            status=AppointmentStatus.SCHEDULED,
            family_response=None,
            moved_from=appointment.starts_at,
        )
    async with in_transaction() as conn:
        updated = (
            await policy.row(appointment)
            .filter(version=version, status__in=OPEN)
            .using_db(conn)
            .update(**columns, version=F("version") + 1, seq=await next_seq(conn))
        )
        if not updated:
            raise Conflict()
        moved = await policy.row(appointment).get()
        await _audit(actor, "appointment.updated", moved)
    return moved


async def cancel(*, appointment: Appointment, actor: Actor) -> Appointment:
    """Cancel an open appointment.

    Args:
        appointment: from ``managed`` (the access check).

    Raises:
        Conflict: it is already cancelled or done.
    """
    must_be_open(appointment)
    async with in_transaction() as conn:
        await (
            policy.row(appointment)
            .filter(status__in=OPEN)
            .using_db(conn)
            .update(
                status=AppointmentStatus.CANCELLED,
                version=F("version") + 1,
                seq=await next_seq(conn),
            )
        )
        cancelled = await policy.row(appointment).get()
        await _audit(actor, "appointment.cancelled", cancelled)
    return cancelled


async def upcoming_for_participant(
    *, user: User, participant: Participant, now: datetime
) -> list[Appointment]:
    """The participant's open appointments not yet over that ``user`` may see, soonest first.

    A worker's list holds only the appointments they take part in, the same
    ones ``/appointments/{id}`` opens for them.
    """
    return (
        await policy.appointments_for(user)
        .filter(participant_id=participant.id, ends_at__gte=now, status__in=OPEN)
        .order_by("starts_at")
        .prefetch_related("participant", "with_user")
        .limit(UPCOMING_LIMIT)
    )


def _columns(data: AppointmentInput) -> dict[str, Any]:
    return {
        "pillar": data.pillar,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "place": data.place,
        "with_user_id": data.with_user_id,
        "what_to_bring": data.what_to_bring,
        "family_visible": data.family_visible,
        "latitude": data.latitude,
        "longitude": data.longitude,
    }


def must_be_open(appointment: Appointment) -> None:
    """Raise Conflict when the appointment is cancelled or done (no more changes)."""
    if appointment.status not in OPEN:
        raise Conflict(N_("This appointment is cancelled or done and can no longer be changed."))


async def _audit(actor: Actor, action: str, appointment: Appointment) -> None:
    await record(
        actor=actor,
        action=action,
        object_type="appointment",
        object_id=str(appointment.id),
        detail={"participant": str(appointment.participant_id), "version": appointment.version},
    )
