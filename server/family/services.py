"""What a family member may see and do: their relative's family-visible
appointments, nothing else.

Only an allow-listed view of an appointment ever leaves this module
(``FamilyAppointment``): what kind of session, when, where (and the
coordinates the organisation entered), with whom (organisation, its contact
phone and the worker's first name), what to bring, and the family's own
answer. Never notes, session details, assessments or other participants.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.appointments.forms import degrees
from server.appointments.models import Appointment
from server.audit.services import Actor, record
from server.enums import AppointmentStatus, Attendance, FamilyResponse, Role
from server.errors import Invalid
from server.i18n import N_
from server.sync.sequence import next_seq

RECENT_DAYS = 30
MESSAGE_MAX = 300

# Why an answer was not taken, and what to do: said on the card itself.
NO_CHOICE = N_('Your answer was not sent. Please choose Yes or No, then press "Send my answer".')
TOO_LONG = N_(
    "Your answer was not sent. The message is too long: please shorten it to 300 characters"
    " or fewer, then send it again."
)
STARTED = N_(
    "This appointment has already started, so the answer cannot be changed."
    " If you need to tell the organisation something, please call them."
)
CLOSED = N_(
    "This appointment was cancelled or has already taken place, so the answer was not sent."
    " There is nothing more to do."
)


@dataclass(frozen=True)
class FamilyAppointment:
    id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    place: str
    organisation: str
    worker_first_name: str
    what_to_bring: str
    status: str
    response: str
    message: str
    took_place: bool | None
    version: int = 1
    pillar: str = ""
    contact_phone: str = ""  # the organisation's, as its admin wrote it
    latitude: float | None = None
    longitude: float | None = None
    # The start before the latest move, while that day has not passed yet.
    moved_from: datetime | None = None
    # The family may still give or change their answer (open, not started).
    answerable: bool = False

    @property
    def tel_uri(self) -> str:
        """A tap-to-call link; the stored number holds only digits, + and spaces."""
        return f"tel:{self.contact_phone.replace(' ', '')}" if self.contact_phone else ""

    @property
    def geo_uri(self) -> str:
        """RFC 5870 link the phone's own maps app opens (``q`` drops a pin there)."""
        if self.latitude is None or self.longitude is None:
            return ""
        point = f"{degrees(self.latitude)},{degrees(self.longitude)}"
        return f"geo:{point}?q={point}"


def first_name(full_name: str) -> str:
    return full_name.split()[0] if full_name.strip() else ""


async def _shape(appointments: list[Appointment]) -> list[FamilyAppointment]:
    shaped = []
    for a in appointments:
        took_place = None
        if a.status is AppointmentStatus.DONE:
            logs = await policy.attendance_of(a)
            took_place = any(log.attendance is Attendance.ATTENDED for log in logs) or not logs
        elif a.status is AppointmentStatus.CANCELLED:
            took_place = False
        shaped.append(
            FamilyAppointment(
                id=a.id,
                starts_at=a.starts_at,
                ends_at=a.ends_at,
                place=a.place,
                organisation=a.participant.organisation.name,
                worker_first_name=first_name(a.with_user.name) if a.with_user else "",
                what_to_bring=a.what_to_bring,
                status=a.status.value,
                response=a.family_response.value if a.family_response else "",
                message=a.family_message,
                took_place=took_place,
                version=a.version,
                pillar=a.pillar.value,
                contact_phone=a.participant.organisation.contact_phone,
                latitude=a.latitude,
                longitude=a.longitude,
                moved_from=a.moved_from,
            )
        )
    return shaped


async def appointments(
    *, user: User, now: datetime, include_cancelled: bool = False
) -> tuple[list[FamilyAppointment], list[FamilyAppointment]]:
    """Upcoming and recent (last 30 days) family-visible appointments.

    Args:
        include_cancelled: keep cancelled ones among the upcoming until they
            are over (the page, the calendar and the phone's pull show them
            as cancelled).
    """
    if user.role is not Role.FAMILY:
        return [], []
    query = policy.appointments_for(user).prefetch_related("participant__organisation", "with_user")
    upcoming_query = query.filter(ends_at__gte=now)
    if not include_cancelled:
        upcoming_query = upcoming_query.exclude(status=AppointmentStatus.CANCELLED)
    upcoming = await upcoming_query.order_by("starts_at").limit(50)
    recent = (
        await query.filter(ends_at__lt=now, ends_at__gte=now - timedelta(days=RECENT_DAYS))
        .order_by("-starts_at")
        .limit(20)
    )
    today = now.astimezone(ZoneInfo(user.time_zone)).date()
    return (
        [_as_of(a, now, today, user.time_zone) for a in await _shape(upcoming)],
        [_as_of(a, now, today, user.time_zone) for a in await _shape(recent)],
    )


def _as_of(item: FamilyAppointment, now: datetime, today: date, zone: str) -> FamilyAppointment:
    """What depends on the moment: an answer is taken until the start, and a
    move is news until the old day has passed (in the family's zone)."""
    moved_from = item.moved_from
    if moved_from is not None and moved_from.astimezone(ZoneInfo(zone)).date() < today:
        moved_from = None
    return replace(
        item,
        moved_from=moved_from,
        answerable=item.status in {s.value for s in policy.OPEN} and item.starts_at > now,
    )


async def appointment(*, user: User, appointment_id: object, actor: Actor) -> FamilyAppointment:
    """One appointment the family member may see, or NotFound (audited)."""
    if user.role is not Role.FAMILY:
        raise await policy.denied(actor, "appointment", str(appointment_id))
    found = await policy.appointment_for(user, appointment_id, actor)
    await record(
        actor=actor, action="appointment.read", object_type="appointment", object_id=str(found.id)
    )
    return (await _shape([found]))[0]


async def respond(
    *,
    user: User,
    appointment_id: object,
    response: str,
    message: str,
    now: datetime,
    actor: Actor,
) -> FamilyAppointment:
    """The family says whether they will come, with an optional short message."""
    shown = await appointment(user=user, appointment_id=appointment_id, actor=actor)
    try:
        answer = FamilyResponse(response)
    except ValueError:
        raise Invalid(NO_CHOICE) from None
    cleaned = message.replace("\x00", "").strip()
    if len(cleaned) > MESSAGE_MAX:
        raise Invalid(TOO_LONG)
    status = (
        AppointmentStatus.CONFIRMED
        if answer is FamilyResponse.COMING
        else AppointmentStatus.SCHEDULED
    )
    async with in_transaction() as conn:
        # Only while still open and not started, checked in the same statement
        # that answers: an appointment closed since the page was read takes no answer.
        answered = await (
            policy.appointments_for(user)
            .filter(id=shown.id, status__in=policy.OPEN, starts_at__gt=now)
            .using_db(conn)
            .update(
                family_response=answer,
                family_message=cleaned,
                status=status,
                version=F("version") + 1,
                seq=await next_seq(conn),
                updated_at=now,
            )
        )
        if not answered:
            raise Invalid(STARTED if shown.status in {s.value for s in policy.OPEN} else CLOSED)
        await record(
            actor=actor,
            action="appointment.family_response",
            object_type="appointment",
            object_id=str(shown.id),
            detail={"response": answer.value},
        )
    return await appointment(user=user, appointment_id=shown.id, actor=actor)
