"""Retention: erase personal details that are kept longer than needed.

Each organisation sets a retention period (``Organisation.retention_days``)
that starts at the participant's release date or at the withdrawal of
consent, whichever comes first. When it has passed, ``homeward retention
run`` anonymises the participant: names, free text, places, messages, the
relatives' accounts and invitations, and the sync conflicts about any of
their records are erased; caseload links and consent end. What the
programme's indicators count (gender, pillars, attendance, engagement,
review outcomes, dates of sessions, and the gender and date of birth behind
the disaggregation by gender and age band) stays, so the numbers reported to
funders do not change. Without a name, free text or a family link, what
remains is a pseudonymous statistical record.

The run works one organisation at a time, in one transaction, with a fixed
number of queries whatever the number of participants due (tests count
them). Safe to run every day: an erased participant is never due again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from server.accounts.models import Challenge, Invitation, LoginSession, Passkey, User
from server.appointments.models import Appointment
from server.assessments.declaration import UnknownAssessment, declaration
from server.assessments.models import NeedsAssessment
from server.audit.services import SYSTEM, Actor, Event, record_many
from server.enums import AppointmentStatus, Role
from server.family.models import AppointmentResponse, CalendarFeed, PushSubscription
from server.forms import get_form
from server.forms.fields import TEXT_TYPES
from server.orgs.models import Organisation
from server.participants.models import ConsentRecord, Participant, PlanGoal
from server.referrals.models import Referral
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog, SessionLogRevision
from server.sync.models import Conflict
from server.sync.sequence import next_seq

BATCH = 500  # rows per bulk update of session logs
OPEN = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)


@dataclass(frozen=True)
class Due:
    participant_id: UUID
    code: str
    reason: str  # "released" | "consent_withdrawn"
    since: date
    organisation_id: int = 0


async def due(*, today: date) -> list[Due]:
    """Participants whose retention period has passed and who are not yet erased."""
    found: list[Due] = []
    for organisation in await Organisation.all().order_by("id"):
        found += await _due_in(organisation, today)
    return found


async def _due_in(organisation: Organisation, today: date) -> list[Due]:
    """Two queries for the whole organisation: its people, and their withdrawals."""
    cutoff = today - timedelta(days=organisation.retention_days)
    people = await Participant.filter(
        Q(release_date__lte=cutoff) | Q(consent_given=False),
        organisation_id=organisation.id,
        erased_at=None,
    ).order_by("code")
    withdrawn: dict[UUID, date] = {}
    rows = (
        await ConsentRecord.filter(
            participant__organisation_id=organisation.id, participant__erased_at=None, given=False
        )
        .order_by("recorded_at", "id")
        .values_list("participant_id", "on_date")
    )
    for participant_id, on_date in rows:
        withdrawn[participant_id] = on_date  # the latest withdrawal wins
    found = []
    for person in people:
        starts = []
        if person.release_date:
            starts.append(("released", person.release_date))
        if not person.consent_given and person.id in withdrawn:
            starts.append(("consent_withdrawn", withdrawn[person.id]))
        if starts:
            reason, since = min(starts, key=lambda item: item[1])
            if since <= cutoff:
                found.append(Due(person.id, person.code, reason, since, organisation.id))
    return found


async def run(*, today: date, now: datetime, actor: Actor = SYSTEM) -> list[tuple[Due, int]]:
    """Anonymise everyone due, one organisation (one transaction) at a time."""
    by_organisation: dict[int, list[Due]] = defaultdict(list)
    for item in await due(today=today):
        by_organisation[item.organisation_id].append(item)
    done: list[tuple[Due, int]] = []
    for items in by_organisation.values():
        done += await erase_many(items=items, now=now, actor=actor)
    return done


def _without_text(log: SessionLog) -> dict[str, Any]:
    """The log's answers with free text blanked: only the choices and numbers
    of fields the form knows stay (an unknown key could hold anything)."""
    try:
        form = get_form(log.pillar, log.form_version)
    except Exception:  # an unknown old form: keep nothing we cannot classify
        return {}
    text = {f.key for f in form.fields if f.type in TEXT_TYPES}
    known = {f.key for f in form.fields}
    return {k: ("" if k in text else v) for k, v in log.answers.items() if k in known}


def _assessment_without_text(assessment: NeedsAssessment) -> dict[str, Any]:
    """An assessment's answers with free text blanked, as for session logs:
    the choices and need levels stay (indicators may count them)."""
    try:
        questions = declaration(assessment.form_version).questions
    except UnknownAssessment:
        return {}
    text = {f.key for f in questions.fields if f.type in TEXT_TYPES}
    known = {f.key for f in questions.fields}
    return {k: ("" if k in text else v) for k, v in assessment.answers.items() if k in known}


async def erase_many(
    *, items: list[Due], now: datetime, actor: Actor = SYSTEM
) -> list[tuple[Due, int]]:
    """Anonymise ``items`` (one organisation) in one transaction, with the
    audit events; a fixed number of queries whatever ``len(items)``."""
    ids = [item.participant_id for item in items]
    if not ids:
        return []
    async with in_transaction() as conn:
        seq = await next_seq(conn)
        await (
            Participant.filter(id__in=ids)
            .using_db(conn)
            .update(full_name="", erased_at=now, consent_given=False, consent_date=None, seq=seq)
        )
        logs = await SessionLog.filter(participant_id__in=ids).using_db(conn)
        for log in logs:
            log.notes, log.place, log.review_comment = "", "", ""
            log.answers, log.seq = _without_text(log), seq
        if logs:
            await SessionLog.bulk_update(
                logs,
                fields=["notes", "place", "review_comment", "answers", "seq"],
                batch_size=BATCH,
                using_db=conn,
            )
        log_ids = [log.id for log in logs]
        await SessionLogRevision.filter(session_log__participant_id__in=ids).using_db(conn).delete()
        owners: dict[Any, list[tuple[str, Any]]] = defaultdict(list)
        for log in logs:
            owners[log.participant_id].append(("session_log", log.id))
        appointments = await _owned(Appointment, "appointment", ids, owners, conn)
        await (
            Appointment.filter(participant_id__in=ids)
            .using_db(conn)
            .update(
                place="",
                what_to_bring="",
                family_message="",
                latitude=None,  # a map point can be a family's home
                longitude=None,
                seq=seq,
            )
        )
        # No one is left to meet: open appointments are cancelled as an
        # officer cancels them (appointments.services.cancel), one version
        # further, so a calendar (SEQUENCE) or phone holding the old version
        # takes the cancellation instead of keeping the event.
        await (
            Appointment.filter(participant_id__in=ids, status__in=OPEN)
            .using_db(conn)
            .update(status=AppointmentStatus.CANCELLED, version=F("version") + 1, seq=seq)
        )
        answers = await _ids(
            AppointmentResponse.filter(appointment__participant_id__in=ids).using_db(conn)
        )
        await AppointmentResponse.filter(id__in=answers).using_db(conn).update(message="")
        reviews = await _owned(ProgressReview, "progress_review", ids, owners, conn)
        await ProgressReview.filter(id__in=reviews).using_db(conn).update(summary="", seq=seq)
        goals = await _owned(PlanGoal, "plan_goal", ids, owners, conn)
        await PlanGoal.filter(id__in=goals).using_db(conn).update(text="", seq=seq)
        await _erase_assessments(conn, ids, owners)
        # A decline's or an ending's reason is free text and may tell of the
        # person; the referrals themselves stay for the record of who served whom.
        await Referral.filter(participant_id__in=ids).using_db(conn).update(reason="")
        # Conflicts point at their record by id: logs, appointments, family
        # answers, reviews and goals alike.
        records = [*log_ids, *appointments, *answers, *reviews, *goals]
        await Conflict.filter(record_id__in=records).using_db(conn).update(payload={}, seq=seq)
        for user_id, participant_id in await _end_links(conn, ids, now):
            owners[participant_id].append(("user", user_id))
        events = {item.participant_id: _events(item, owners[item.participant_id]) for item in items}
        await record_many(conn, actor, [event for each in events.values() for event in each])
    return [(item, len(events[item.participant_id])) for item in items]


async def _erase_assessments(
    conn: Any, ids: list[UUID], owners: dict[Any, list[tuple[str, Any]]]
) -> None:
    """Needs assessments lose their notes (the risk note first of all) and
    their free-text answers; need levels and choices stay."""
    assessments = await NeedsAssessment.filter(participant_id__in=ids).using_db(conn)
    for assessment in assessments:
        owners[assessment.participant_id].append(("needs_assessment", assessment.id))
        assessment.answers = _assessment_without_text(assessment)
        assessment.risk_note, assessment.general_note = "", ""
    if assessments:
        await NeedsAssessment.bulk_update(
            assessments,
            fields=["answers", "risk_note", "general_note"],
            batch_size=BATCH,
            using_db=conn,
        )


async def _owned(
    model: Any, kind: str, ids: list[UUID], owners: dict[Any, list[tuple[str, Any]]], conn: Any
) -> list[Any]:
    """The ids of ``model``'s rows for ``ids``, noted under their participant."""
    rows = (
        await model.filter(participant_id__in=ids)
        .using_db(conn)
        .values_list("id", "participant_id")
    )
    for record_id, participant_id in rows:
        owners[participant_id].append((kind, record_id))
    return [record_id for record_id, _ in rows]


def _events(item: Due, records: list[tuple[str, Any]]) -> list[Event]:
    """One event per record, naming it but never what was erased from it,
    for the organisation's admins to read."""
    first = Event(
        "retention.anonymised",
        "participant",
        str(item.participant_id),
        {"reason": item.reason},
        item.organisation_id,
    )
    return [
        first,
        *(
            Event("retention.anonymised", kind, str(record_id), None, item.organisation_id)
            for kind, record_id in records
        ),
    ]


async def _ids(query: Any) -> list[Any]:
    return list(await query.values_list("id", flat=True))


async def _end_links(conn: Any, ids: list[UUID], now: datetime) -> list[tuple[int, Any]]:
    """End caseload and family links; close the accounts of relatives who
    have no other participant, with their keys, sessions and feeds; make
    the participants' invitations unusable and nameless. Returns the
    closed accounts, each with its participant."""
    pairs = await (
        User.filter(relatives__id__in=ids, role=Role.FAMILY)
        .using_db(conn)
        .values_list("id", "relatives__id")
    )
    linked = {user_id for user_id, _ in pairs}
    others = await (
        User.filter(id__in=list(linked))
        .filter(Q(relatives__erased_at=None) & ~Q(relatives__id__in=ids))
        .using_db(conn)
        .values_list("id", flat=True)
    )
    closing = sorted(set(linked) - set(others))
    await _delete_links(conn, "participant_worker", ids)
    await _delete_links(conn, "participant_family", ids)
    await (
        User.filter(id__in=closing, role=Role.FAMILY)
        .using_db(conn)
        .update(is_active=False, name="")
    )
    await LoginSession.filter(user_id__in=closing).using_db(conn).delete()
    await Passkey.filter(user_id__in=closing).using_db(conn).delete()
    # Their phones' reminders (and what was sent to them) go with the account.
    await PushSubscription.filter(user_id__in=closing).using_db(conn).delete()
    await (
        CalendarFeed.filter(user_id__in=closing, revoked_at=None)
        .using_db(conn)
        .update(revoked_at=now)
    )
    invitations = Invitation.filter(Q(participant_id__in=ids) | Q(user_id__in=closing))
    invitation_ids = await _ids(invitations.using_db(conn))
    await (
        Challenge.filter(Q(invitation_id__in=invitation_ids) | Q(user_id__in=closing))
        .using_db(conn)
        .delete()
    )
    await Invitation.filter(id__in=invitation_ids).using_db(conn).update(name="")
    await (
        Invitation.filter(id__in=invitation_ids, used_at=None).using_db(conn).update(expires_at=now)
    )
    return [(user_id, participant_id) for user_id, participant_id in pairs if user_id in closing]


async def _delete_links(conn: Any, table: str, ids: list[UUID]) -> None:
    """Delete a many-to-many table's rows for ``ids`` in one statement."""
    postgres = conn.capabilities.dialect == "postgres"
    marks = ", ".join(f"${n}" if postgres else "?" for n in range(1, len(ids) + 1))
    values = list(ids) if postgres else [str(i) for i in ids]
    # The table name is one of two constants above, never input.
    await conn.execute_query(f'DELETE FROM "{table}" WHERE participant_id IN ({marks})', values)  # noqa: S608
