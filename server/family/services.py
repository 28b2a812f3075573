"""What a family member may see and do: their relative's family-visible
appointments, nothing else.

Only an allow-listed view of an appointment ever leaves this module
(``FamilyAppointment``): when, where, with whom (organisation and the
worker's first name), what to bring, and the family's own answer. Never
notes, session details, assessments or other participants.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.accounts.tokens import new_token, token_hash
from server.appointments.models import Appointment
from server.audit.services import Actor, record
from server.enums import AppointmentStatus, Attendance, FamilyResponse, Role
from server.errors import Invalid, NotFound
from server.family.models import CalendarFeed
from server.i18n import N_
from server.participants.models import Participant
from server.sync.sequence import next_seq

RECENT_DAYS = 30
MESSAGE_MAX = 300


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


def first_name(full_name: str) -> str:
    return full_name.split()[0] if full_name.strip() else ""


async def _relatives(user: User) -> list[Participant]:
    if user.role is not Role.FAMILY:
        return []
    return await policy.participants_for(user).prefetch_related("organisation")


async def _shape(appointments: list[Appointment]) -> list[FamilyAppointment]:
    shaped = []
    for a in appointments:
        took_place = None
        if a.status is AppointmentStatus.DONE:
            logs = await a.session_logs.all().only("id", "attendance")  # type: ignore[attr-defined]
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
            )
        )
    return shaped


async def appointments(
    *, user: User, now: datetime
) -> tuple[list[FamilyAppointment], list[FamilyAppointment]]:
    """Upcoming and recent (last 30 days) family-visible appointments."""
    ids = [p.id for p in await _relatives(user)]
    if not ids:
        return [], []
    query = Appointment.filter(participant_id__in=ids, family_visible=True).prefetch_related(
        "participant__organisation", "with_user"
    )
    upcoming = (
        await query.filter(ends_at__gte=now)
        .exclude(status=AppointmentStatus.CANCELLED)
        .order_by("starts_at")
        .limit(50)
    )
    recent = (
        await Appointment.filter(
            participant_id__in=ids,
            family_visible=True,
            ends_at__lt=now,
            ends_at__gte=now - timedelta(days=RECENT_DAYS),
        )
        .prefetch_related("participant__organisation", "with_user")
        .order_by("-starts_at")
        .limit(20)
    )
    return await _shape(upcoming), await _shape(recent)


async def appointment(*, user: User, appointment_id: object, actor: Actor) -> FamilyAppointment:
    """One appointment the family member may see, or NotFound (audited)."""
    try:
        wanted = uuid.UUID(str(appointment_id))
    except ValueError:
        raise NotFound() from None
    ids = [p.id for p in await _relatives(user)]
    found = (
        await Appointment.filter(
            id=wanted, participant_id__in=ids or [uuid.UUID(int=0)], family_visible=True
        )
        .prefetch_related("participant__organisation", "with_user")
        .first()
    )
    if found is None:
        raise await policy.denied(actor, "appointment", str(appointment_id))
    await record(
        actor=actor, action="appointment.read", object_type="appointment", object_id=str(wanted)
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
        raise Invalid(N_("Please choose whether you will come.")) from None
    cleaned = message.replace("\x00", "").strip()
    if len(cleaned) > MESSAGE_MAX:
        raise Invalid(N_("Please keep the message under 300 characters."))
    if shown.status in (AppointmentStatus.CANCELLED.value, AppointmentStatus.DONE.value):
        raise Invalid(N_("This appointment is over or cancelled."))
    status = (
        AppointmentStatus.CONFIRMED
        if answer is FamilyResponse.COMING
        else AppointmentStatus.SCHEDULED
    )
    async with in_transaction() as conn:
        await (
            Appointment.filter(id=shown.id)
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
    await record(
        actor=actor,
        action="appointment.family_response",
        object_type="appointment",
        object_id=str(shown.id),
        detail={"response": answer.value},
    )
    return await appointment(user=user, appointment_id=shown.id, actor=actor)


async def open_feed(*, user: User, now: datetime, actor: Actor) -> str:
    """A new private calendar link; any earlier one stops working."""
    if user.role is not Role.FAMILY:
        raise await policy.denied(actor, "calendar_feed", str(user.id))
    await CalendarFeed.filter(user=user, revoked_at=None).update(revoked_at=now)
    token = new_token()
    feed = await CalendarFeed.create(token_hash=token_hash(token), user=user, created_at=now)
    await record(
        actor=actor, action="calendar.created", object_type="calendar_feed", object_id=str(feed.id)
    )
    return token


async def revoke_feeds(*, user_id: int, now: datetime, actor: Actor) -> int:
    """End a family member's calendar feeds (by them, or by an officer)."""
    count = await CalendarFeed.filter(user_id=user_id, revoked_at=None).update(revoked_at=now)
    await record(
        actor=actor,
        action="calendar.revoked",
        object_type="user",
        object_id=str(user_id),
        detail={"feeds": count},
    )
    return count


async def feed_owner(*, token: str, now: datetime, actor: Actor) -> User:
    """The family member a calendar token belongs to; every read is audited."""
    feed = await CalendarFeed.get_or_none(token_hash=token_hash(token), revoked_at=None)
    if feed is None:
        raise NotFound()
    user = await User.get(id=feed.user_id)
    if not user.is_active:
        raise NotFound()
    await CalendarFeed.filter(id=feed.id).update(last_read_at=now)
    await record(
        actor=Actor(user.id, user.organisation_id, actor.ip, actor.device),
        action="calendar.read",
        object_type="calendar_feed",
        object_id=str(feed.id),
    )
    return user


async def has_feed(user: User) -> bool:
    return await CalendarFeed.exists(user=user, revoked_at=None)
