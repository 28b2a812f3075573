"""Read models for the worker's screens: caseload with last contact, timeline."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Max

from server import policy
from server.accounts.models import User
from server.appointments.models import Appointment
from server.participants.models import Participant
from server.sessions.models import SessionLog


@dataclass(frozen=True)
class CaseloadRow:
    participant: Participant
    last_contact: datetime | None


async def caseload(user: User) -> list[CaseloadRow]:
    """The user's participants with the time of their last logged session.

    One aggregate query for the last contacts, not one per participant.
    """
    participants = await policy.participants_for(user).order_by("code")
    ids = [p.id for p in participants]
    last: dict[uuid.UUID, datetime] = {}
    if ids:
        rows = await (
            policy.caseload_logs(user)
            .filter(participant_id__in=ids)
            .group_by("participant_id")
            .annotate(last=Max("occurred_at"))
            .values("participant_id", "last")
        )
        last = {uuid.UUID(str(row["participant_id"])): row["last"] for row in rows}
    return [CaseloadRow(p, last.get(p.id)) for p in participants]


async def appointments_between(
    user: User, start: datetime, end: datetime, caseload: Sequence[CaseloadRow]
) -> list[Appointment]:
    """Appointments of the ``caseload`` (the user's, from ``caseload()``) in
    [start, end), soonest first, each with its participant attached.

    Taking the caseload already read saves reading the participants twice on
    the worker's home page, the page opened most.
    """
    by_id = {row.participant.id: row.participant for row in caseload}
    appointments = (
        await policy.appointments_for(user)
        .filter(
            participant_id__in=list(by_id),
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .exclude(status="cancelled")
        .order_by("starts_at")
        .limit(100)
    )
    for appointment in appointments:
        appointment.participant = by_id[appointment.participant_id]
    return appointments


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "session" | "appointment"
    item: SessionLog | Appointment


async def timeline(user: User, participant: Participant, limit: int = 50) -> list[TimelineEntry]:
    """Sessions and appointments of one participant that ``user`` may open, newest first.

    A worker's history holds their own logs and appointments only, as
    ``/sessions/{id}`` and ``/appointments/{id}`` would answer them.
    """
    logs = (
        await policy.logs_for(user)
        .filter(participant_id=participant.id)
        .order_by("-occurred_at")
        .limit(limit)
    )
    appointments = (
        await policy.appointments_for(user)
        .filter(participant_id=participant.id)
        .order_by("-starts_at")
        .limit(limit)
    )
    entries = [TimelineEntry(log.occurred_at, "session", log) for log in logs]
    entries += [TimelineEntry(a.starts_at, "appointment", a) for a in appointments]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]
