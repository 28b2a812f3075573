"""Retention: erase personal details that are kept longer than needed.

Each organisation sets a retention period (``Organisation.retention_days``)
that starts at the participant's release date or at the withdrawal of
consent, whichever comes first. When it has passed, ``homeward retention
run`` anonymises the participant: names, free text, places and messages are
erased; what the programme's indicators count (gender, pillars, attendance,
engagement, review outcomes, dates of sessions, and the gender and date of
birth behind the disaggregation by gender and age band) stays, so the
numbers reported to funders do not change. Without a name, free text or a
family link, what remains is a pseudonymous statistical record.
Safe to run every day: an erased participant is never due again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from tortoise.transactions import in_transaction

from server.accounts import sessions
from server.appointments.models import Appointment
from server.audit.services import SYSTEM, Actor, record
from server.enums import Role
from server.family.models import AppointmentResponse, CalendarFeed
from server.forms import get_form
from server.forms.fields import TEXT_TYPES
from server.participants.models import ConsentRecord, Participant, PlanGoal
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog, SessionLogRevision
from server.sync.models import Conflict
from server.sync.sequence import next_seq


@dataclass(frozen=True)
class Due:
    participant_id: UUID
    code: str
    reason: str  # "released" | "consent_withdrawn"
    since: date


async def due(*, today: date) -> list[Due]:
    """Participants whose retention period has passed and who are not yet erased."""
    found = []
    for participant in await Participant.filter(erased_at=None).prefetch_related("organisation"):
        keep = timedelta(days=participant.organisation.retention_days)
        starts = []
        if participant.release_date:
            starts.append(("released", participant.release_date))
        withdrawn = (
            await ConsentRecord.filter(participant=participant, given=False)
            .order_by("-recorded_at")
            .first()
        )
        if withdrawn is not None and not participant.consent_given:
            starts.append(("consent_withdrawn", withdrawn.on_date))
        if starts:
            reason, since = min(starts, key=lambda item: item[1])
            if since + keep <= today:
                found.append(Due(participant.id, participant.code, reason, since))
    return found


def _without_text(log: SessionLog) -> dict[str, Any]:
    """The log's answers with free text removed (choices and numbers stay)."""
    try:
        form = get_form(log.pillar, log.form_version)
    except Exception:  # an unknown old form: keep nothing we cannot classify
        return {}
    text_keys = {f.key for f in form.fields if f.type in TEXT_TYPES}
    return {k: ("" if k in text_keys else v) for k, v in log.answers.items()}


async def erase(*, item: Due, now: datetime, actor: Actor = SYSTEM) -> int:
    """Anonymise one participant and everything about them; returns the records touched."""
    async with in_transaction() as conn:
        participant = await Participant.filter(id=item.participant_id).using_db(conn).get()
        await (
            Participant.filter(id=participant.id)
            .using_db(conn)
            .update(
                full_name="",
                erased_at=now,
                seq=await next_seq(conn),
            )
        )
        logs = await SessionLog.filter(participant_id=participant.id).using_db(conn)
        for log in logs:
            await (
                SessionLog.filter(id=log.id)
                .using_db(conn)
                .update(
                    notes="",
                    place="",
                    review_comment="",
                    answers=_without_text(log),
                    seq=await next_seq(conn),
                )
            )
        log_ids = [log.id for log in logs]
        await SessionLogRevision.filter(session_log_id__in=log_ids).using_db(conn).delete()
        appointments = await Appointment.filter(participant_id=participant.id).using_db(conn)
        ids = [a.id for a in appointments]
        await (
            Appointment.filter(id__in=ids)
            .using_db(conn)
            .update(place="", what_to_bring="", family_message="")
        )
        await AppointmentResponse.filter(appointment_id__in=ids).using_db(conn).update(message="")
        await Conflict.filter(record_id__in=[*log_ids, *ids]).using_db(conn).update(payload={})
        reviews = await ProgressReview.filter(participant_id=participant.id).using_db(conn)
        await ProgressReview.filter(participant_id=participant.id).using_db(conn).update(summary="")
        goals = await PlanGoal.filter(participant_id=participant.id).using_db(conn)
        await PlanGoal.filter(participant_id=participant.id).using_db(conn).update(text="")
        relatives = await participant.family.all().using_db(conn)
        await participant.family.clear(using_db=conn)
    for relative in relatives:
        # A family account exists only for its relative: it goes with them.
        if relative.role is Role.FAMILY:
            relative.is_active = False
            relative.name = ""
            await relative.save(update_fields=["is_active", "name"])
            await CalendarFeed.filter(user_id=relative.id, revoked_at=None).update(revoked_at=now)
            await sessions.end_all(user_id=relative.id)
    await record(
        actor=actor,
        action="retention.anonymised",
        object_type="participant",
        object_id=str(participant.id),
        detail={"reason": item.reason},
    )
    # One event per record, naming it but never what was erased from it.
    records = [
        *(("session_log", log_id) for log_id in log_ids),
        *(("appointment", appointment_id) for appointment_id in ids),
        *(("progress_review", review.id) for review in reviews),
        *(("plan_goal", goal.id) for goal in goals),
        *(("user", relative.id) for relative in relatives),
    ]
    for object_type, object_id in records:
        await record(
            actor=actor,
            action="retention.anonymised",
            object_type=object_type,
            object_id=str(object_id),
        )
    return 1 + len(records)
