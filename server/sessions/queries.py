"""Read models for the worker's screens: caseload with last contact, timeline."""

from __future__ import annotations

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

    One query: the participants the policy lets the user see, each with the
    latest of its logs (the same logs as ``policy.caseload_logs``: every log
    of those participants) joined and aggregated. The home page, opened most,
    ran this as two before, and building each statement costs more than
    running it.
    """
    participants = (
        await policy.participants_for(user)
        .annotate(last=Max("session_logs__occurred_at"))
        .order_by("code")
    )
    # SQLite hands the aggregate back as text, PostgreSQL as a datetime: read
    # it as the column itself is read.
    read = SessionLog._meta.fields_map["occurred_at"].to_python_value
    return [CaseloadRow(p, read(p.last)) for p in participants]


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
