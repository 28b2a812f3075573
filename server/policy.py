"""What each role may see and do with records: the one place that decides.

- admin: their organisation's users, invitations and audit log, and its
  indicators; no participant records.
- officer: the participants they are responsible for, with all their
  appointments, session logs, goals, consent history, reviews and needs
  assessments (risk notes included).
- worker: the participants assigned to them; of those, only the
  appointments they take part in and the session logs they wrote.
- family: the family-visible appointments of their linked relative only.
- coordinator: counts across the organisations of their countries, with
  small numbers suppressed; never a participant, a name, a note or a log.

Views and services reach protected records only through the query builders
and checks below (``tests/test_policy_scan.py`` fails on any other module
that queries those models). A record outside a user's reach is reported as
not found (never as forbidden, which would confirm it exists) and the
attempt is audited.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from server.accounts.models import User
from server.appointments.models import Appointment
from server.assessments.models import AcceptedGoal, NeedsAssessment
from server.audit.services import Actor, record
from server.enums import AppointmentStatus, Country, Pillar, Role
from server.errors import NotFound
from server.family.models import AppointmentResponse, PushSubscription
from server.orgs.models import Organisation
from server.participants.models import ConsentRecord, Participant, PlanGoal
from server.programme.models import CoordinatorCountry
from server.referrals.models import Referral, ReferralKind, ReferralStatus, ReferralWorker
from server.reviews.models import ProgressReview
from server.sessions.models import SessionLog, SessionLogRevision
from server.sync.models import Conflict

INVITABLE_BY: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.OFFICER: frozenset({Role.WORKER, Role.FAMILY}),
}
STAFF = frozenset({Role.OFFICER, Role.WORKER})
OPEN = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
NOBODY = Q(id=None)  # matches no row: ids are never NULL

M = TypeVar("M", bound=Model)


def parse_id(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def denied(
    actor: Actor, object_type: str, object_id: str, owner_organisation_id: int | None = None
) -> NotFound:
    """Audit a refused access and return the error to raise.

    The event goes to the actor's organisation and, when the record exists,
    to the organisation holding it (``owner_organisation_id``, looked up if
    not given): that admin must see who tried to reach their records.
    """
    owner = owner_organisation_id
    if owner is None:
        owner = await _owner(object_type, object_id)
    await record(
        actor=actor,
        action="access.denied",
        object_type=object_type,
        object_id=object_id[:64],
        object_organisation_id=owner,
    )
    return NotFound()


# The organisation holding each kind of record, for refusals across organisations.
_OWNER_FIELD: dict[str, tuple[type[Model], str]] = {
    "participant": (Participant, "organisation_id"),
    "appointment": (Appointment, "participant__organisation_id"),
    "session_log": (SessionLog, "participant__organisation_id"),
    "goal": (PlanGoal, "participant__organisation_id"),
    "needs_assessment": (NeedsAssessment, "participant__organisation_id"),
}


async def _owner(object_type: str, object_id: str) -> int | None:
    known = _OWNER_FIELD.get(object_type)
    wanted = parse_id(object_id)
    if known is None or wanted is None:
        return None
    model, column = known
    owners: list[Any] = await model.filter(id=wanted).limit(1).values_list(column, flat=True)
    return int(owners[0]) if owners else None


async def _one(query: QuerySet[M], raw_id: Any, actor: Actor, object_type: str) -> M:
    """The record of ``query`` with id ``raw_id``, or NotFound (audited).

    Something that is not even an id is refused like an unknown record.
    """
    wanted = parse_id(raw_id)
    found = await query.filter(id=wanted).first() if wanted is not None else None
    if found is None:
        raise await denied(actor, object_type, str(raw_id))
    return found


def _officers_only(user: User, query: QuerySet[M]) -> QuerySet[M]:
    """``query`` for the responsible officer; nothing for any other role."""
    return query if user.role is Role.OFFICER else query.filter(NOBODY)


def row(instance: M) -> QuerySet[M]:
    """The one row of a record already obtained through this module.

    For conditional updates (``row(log).filter(revision=…).update(…)``) and
    reloads after a change: the access decision was made when the record was
    first read, and a record instance cannot be had any other way.
    """
    return type(instance).filter(pk=instance.pk)


# --- participants ---


def participant_filter(user: User) -> Q:
    """The participants ``user`` may see, as a query condition."""
    org = Q(organisation_id=user.organisation_id)
    if user.role is Role.OFFICER:
        return org & Q(officer_id=user.id)
    if user.role is Role.WORKER:
        # A partner's worker reaches a participant of another organisation
        # only while assigned to a live referral (see ``live_referrals``).
        return (org & Q(workers__id=user.id)) | Q(id__in=_referred_to(user))
    if user.role is Role.FAMILY:
        return org & Q(family__id=user.id)
    return NOBODY  # admins see no participant records


def participants_for(user: User) -> QuerySet[Participant]:
    return Participant.filter(participant_filter(user)).distinct()


def _caseload(user: User) -> Subquery:
    return Subquery(Participant.filter(participant_filter(user)).values("id"))


def _own_caseload(user: User) -> Subquery:
    """The caseload within the user's organisation: what a referral never
    shares (goals, every log of a participant for figures)."""
    own = Participant.filter(participant_filter(user), organisation_id=user.organisation_id)
    return Subquery(own.values("id"))


def _own_or_referred(user: User) -> Q:
    """Logs a user wrote stay theirs to read within their organisation; of a
    participant of another organisation, only while a referral is live."""
    return Q(participant__organisation_id=user.organisation_id) | Q(
        participant_id__in=_referred_to(user)
    )


async def participant_for(user: User, participant_id: Any, actor: Actor) -> Participant:
    """One participant the user may see, or NotFound (audited)."""
    return await _one(participants_for(user), participant_id, actor, "participant")


async def responsible_for(user: User, participant_id: Any, actor: Actor) -> Participant:
    """A participant the user is the responsible officer of, or NotFound (audited)."""
    query = _officers_only(user, participants_for(user))
    return await _one(query, participant_id, actor, "participant")


def loggable_participants(user: User) -> QuerySet[Participant]:
    """Participants the user may record new sessions for.

    Staff only, in their caseload, and never one erased by retention: an
    erased participant is gone for new work, whatever path (form, sync,
    batch) the log takes. Consent is checked by the caller, which answers
    a withdrawn consent with its own message.
    """
    if user.role not in STAFF:
        return Participant.filter(NOBODY)
    return participants_for(user).filter(erased_at=None)


async def loggable_participant(user: User, participant_id: Any, actor: Actor) -> Participant:
    """One participant of ``loggable_participants``, or NotFound (audited)."""
    return await _one(loggable_participants(user), participant_id, actor, "participant")


def organisation_participants(user: User) -> QuerySet[Participant]:
    """For counting only (indicators): every participant of the user's
    organisation, and those its staff logged sessions for (a referral's
    partner serves them too); each one once."""
    if user.role not in (Role.OFFICER, Role.ADMIN):
        return Participant.filter(NOBODY)
    served = Subquery(SessionLog.filter(_served_here(user)).values("participant_id"))
    return Participant.filter(Q(organisation_id=user.organisation_id) | Q(id__in=served))


def _served_here(user: User) -> Q:
    """Logs the user's organisation's staff wrote for participants referred
    to it (a referral accepted at some time: active, ended or withdrawn)."""
    staff = Subquery(User.filter(organisation_id=user.organisation_id).values("id"))
    referred = Referral.filter(
        to_organisation_id=user.organisation_id, kind=ReferralKind.REFERRAL
    ).exclude(status__in=(ReferralStatus.PENDING, ReferralStatus.DECLINED))
    return Q(author_id__in=staff, participant_id__in=Subquery(referred.values("participant_id")))


def _home_participants(user: User) -> Subquery:
    if user.role not in (Role.OFFICER, Role.ADMIN):
        return Subquery(Participant.filter(NOBODY).values("id"))
    return Subquery(Participant.filter(organisation_id=user.organisation_id).values("id"))


def consents_for(user: User) -> QuerySet[ConsentRecord]:
    """Consent history: the responsible officer's only."""
    if user.role is not Role.OFFICER:
        return ConsentRecord.filter(NOBODY)
    return ConsentRecord.filter(participant_id__in=_caseload(user))


# --- appointments ---


def appointment_filter(user: User) -> Q:
    """Extra condition on appointments: a worker sees only those they take part in."""
    if user.role is Role.WORKER:
        return Q(with_user_id=user.id)
    if user.role is Role.FAMILY:
        return Q(family_visible=True)
    return Q()


def appointments_for(user: User) -> QuerySet[Appointment]:
    """The appointments ``user`` may see: of their participants, and for a
    worker only their own, for a family only the family-visible ones."""
    if user.role not in (*STAFF, Role.FAMILY):
        return Appointment.filter(NOBODY)
    return Appointment.filter(appointment_filter(user), participant_id__in=_caseload(user))


async def appointment_for(user: User, appointment_id: Any, actor: Actor) -> Appointment:
    """One appointment the user may see (participant and with_user attached), or NotFound."""
    return await _one(_with_people(appointments_for(user)), appointment_id, actor, "appointment")


def _with_people(query: QuerySet[Appointment]) -> QuerySet[Appointment]:
    return query.prefetch_related("participant__organisation", "with_user")


async def managed_appointment(user: User, appointment_id: Any, actor: Actor) -> Appointment:
    """An appointment the user may change (the responsible officer), or NotFound."""
    query = _with_people(_officers_only(user, appointments_for(user)))
    return await _one(query, appointment_id, actor, "appointment")


def fulfillable_appointments(user: User, participant_id: uuid.UUID) -> QuerySet[Appointment]:
    """Open appointments of one participant a session logged by ``user`` may mark done."""
    if user.role not in STAFF:
        return Appointment.filter(NOBODY)
    return appointments_for(user).filter(participant_id=participant_id, status__in=OPEN)


async def fulfillable_appointment(
    user: User, participant_id: uuid.UUID, appointment_id: Any, actor: Actor
) -> Appointment:
    """One of ``fulfillable_appointments``, or NotFound (audited)."""
    query = fulfillable_appointments(user, participant_id)
    return await _one(query, appointment_id, actor, "appointment")


def responses_for(user: User) -> QuerySet[AppointmentResponse]:
    """Family answers as received: the responsible officer's (subject access)."""
    if user.role is not Role.OFFICER:
        return AppointmentResponse.filter(NOBODY)
    return AppointmentResponse.filter(appointment__participant_id__in=_caseload(user))


def response_with_id(record_id: uuid.UUID) -> QuerySet[AppointmentResponse]:
    """The answer stored under an id, whoever sent it: ids are idempotency keys.

    The caller compares it with what arrived and never shows it.
    """
    return AppointmentResponse.filter(id=record_id)


# --- session logs ---


def logs_for(user: User) -> QuerySet[SessionLog]:
    """The session logs ``user`` may read: their own, and for an officer
    every log of the participants they are responsible for."""
    if user.role is Role.OFFICER:
        own = Q(author_id=user.id, participant__organisation_id=user.organisation_id)
        return SessionLog.filter(own | Q(participant_id__in=_caseload(user)))
    if user.role is Role.WORKER:
        return SessionLog.filter(Q(author_id=user.id) & _own_or_referred(user))
    return SessionLog.filter(NOBODY)


def caseload_logs(user: User) -> QuerySet[SessionLog]:
    """Every log of the user's participants, for figures only (last contact,
    dashboards, the officer's export): never listed to a worker one by one."""
    if user.role not in STAFF:
        return SessionLog.filter(NOBODY)
    return SessionLog.filter(participant_id__in=_own_caseload(user))


async def log_for(user: User, log_id: Any, actor: Actor) -> SessionLog:
    """One log the user may read (participant and author attached), or NotFound (audited)."""
    query = logs_for(user).prefetch_related("participant", "author")
    return await _one(query, log_id, actor, "session_log")


async def reviewable_log(user: User, log_id: Any, actor: Actor) -> SessionLog:
    """A log the user may mark reviewed: one of the officer's participants', or NotFound."""
    if user.role is not Role.OFFICER:
        raise await denied(actor, "session_log", str(log_id))
    log = await log_for(user, log_id, actor)
    if not may_review(user, log):
        raise await denied(actor, "session_log", str(log_id))
    return log


def may_review(user: User, log: SessionLog) -> bool:
    """Only the participant's responsible officer reviews (not an earlier one
    who can still read the logs they wrote themselves)."""
    return user.role is Role.OFFICER and log.participant.officer_id == user.id


def may_correct(user: User, log: SessionLog) -> bool:
    """Only the author corrects a log (before review; the service checks that)."""
    return bool(log.author_id == user.id)


def revisions_for(user: User) -> QuerySet[SessionLogRevision]:
    """Earlier versions of logs: the responsible officer's only."""
    if user.role is not Role.OFFICER:
        return SessionLogRevision.filter(NOBODY)
    return SessionLogRevision.filter(session_log__participant_id__in=_caseload(user))


def logs_with_ids(ids: list[uuid.UUID]) -> QuerySet[SessionLog]:
    """Logs stored under these ids, whoever wrote them: ids are idempotency keys.

    The caller compares what is stored with what arrived (same content →
    "already stored", else a conflict) and never shows the stored log.
    """
    return SessionLog.filter(id__in=ids)


def attendance_of(appointment: Appointment) -> QuerySet[SessionLog]:
    """Whether an appointment obtained through this module took place: the
    attendance of the logs fulfilling it, and nothing else of them."""
    return SessionLog.filter(appointment_id=appointment.id).only("id", "attendance")


def organisation_logs(user: User) -> QuerySet[SessionLog]:
    """For counting only (indicators): every log of the user's organisation's
    participants, whoever wrote it, and every log its own staff wrote (of a
    participant referred to it)."""
    if user.role not in (Role.OFFICER, Role.ADMIN):
        return SessionLog.filter(NOBODY)
    return SessionLog.filter(Q(participant_id__in=_home_participants(user)) | _served_here(user))


# --- plan goals and reviews ---


def goals_for(user: User) -> QuerySet[PlanGoal]:
    """Plan goals: read by the participant's officer and workers; a partner's
    assigned worker reads the goals of the referred pillars only, and only
    when the participant's consent covers them (``share_goals``)."""
    if user.role not in STAFF:
        return PlanGoal.filter(NOBODY)
    own = Q(participant_id__in=_own_caseload(user))
    if user.role is not Role.WORKER:
        return PlanGoal.filter(own)
    return PlanGoal.filter(Q(own, *_shared_goals(user), join_type=Q.OR))


def _shared_goals(user: User) -> list[Q]:
    """One condition per pillar: goals of that pillar of participants whose
    live referral, with goals shared, names it and assigns ``user``."""
    assigned = Subquery(ReferralWorker.filter(user_id=user.id).values("referral_id"))
    sharing = live_referrals().filter(id__in=assigned, share_goals=True)
    # ``pillars`` is a comma-separated list of pillar names, none of which
    # is part of another, so "contains" matches exactly one pillar.
    return [
        Q(
            pillar=pillar,
            participant_id__in=Subquery(
                sharing.filter(pillars__contains=pillar.value).values("participant_id")
            ),
        )
        for pillar in Pillar
    ]


async def goal_for(user: User, goal_id: Any, actor: Actor) -> PlanGoal:
    """A goal the user may change (the responsible officer), or NotFound (audited)."""
    query = _officers_only(user, goals_for(user)).prefetch_related("participant")
    return await _one(query, goal_id, actor, "goal")


def reviews_for(user: User) -> QuerySet[ProgressReview]:
    """Progress reviews: the responsible officer's only."""
    if user.role is not Role.OFFICER:
        return ProgressReview.filter(NOBODY)
    return ProgressReview.filter(participant_id__in=_caseload(user))


def organisation_reviews(user: User) -> QuerySet[ProgressReview]:
    """For counting only (indicators): every review of the user's
    organisation's own participants (a partner never counts them)."""
    return ProgressReview.filter(participant_id__in=_home_participants(user))


# --- needs assessments ---


def assessments_for(user: User) -> QuerySet[NeedsAssessment]:
    """Needs assessments, risk notes included: the responsible officer's only.

    Nobody else (another officer, a worker, a family member, an
    administrator) reads one; a partner sees only what a referral shares,
    through ``server.assessments.services.shared_summary``.
    """
    if user.role is not Role.OFFICER:
        return NeedsAssessment.filter(NOBODY)
    return NeedsAssessment.filter(participant_id__in=_caseload(user))


async def assessment_for(user: User, assessment_id: Any, actor: Actor) -> NeedsAssessment:
    """One assessment of the officer's participants (participant attached), or NotFound."""
    query = assessments_for(user).prefetch_related("participant")
    return await _one(query, assessment_id, actor, "needs_assessment")


def accepted_goals_for(user: User) -> QuerySet[AcceptedGoal]:
    """Which proposals of the officer's assessments became goals."""
    if user.role is not Role.OFFICER:
        return AcceptedGoal.filter(NOBODY)
    return AcceptedGoal.filter(assessment__participant_id__in=_caseload(user))


# --- the programme view (coordinators) ---
# A coordinator reads counts across the organisations of their countries,
# and nothing else: these builders are for aggregate queries only, whose
# published cells pass through ``server.programme.disclosure``.


def may_see_programme(user: User) -> bool:
    return user.role is Role.COORDINATOR


async def programme_countries(user: User) -> list[Country]:
    """The countries a coordinator is assigned to (none for anyone else)."""
    if not may_see_programme(user):
        return []
    found = await CoordinatorCountry.filter(user_id=user.id).values_list("country", flat=True)
    return sorted((Country(str(code)) for code in found), key=lambda c: c.value)


def programme_organisations(user: User, countries: list[Country]) -> QuerySet[Organisation]:
    """The organisations of ``countries`` (already the coordinator's own) that
    serve participants: not the programme's own office."""
    if not may_see_programme(user) or not countries:
        return Organisation.filter(NOBODY)
    return Organisation.filter(country__in=countries, is_programme=False)


def _staff_of(organisation_ids: list[int], countries: list[Country]) -> Subquery:
    # Decided on the small user table, so the logs need no join for it.
    staff = User.filter(organisation_id__in=organisation_ids, organisation__country__in=countries)
    return Subquery(staff.values("id"))


def programme_logs(
    user: User,
    countries: list[Country],
    windows: list[tuple[list[int], datetime, datetime]],
) -> QuerySet[SessionLog]:
    """For counting only: the logs written by staff of the organisations of
    each window, in ``[start, end)`` (each organisation's period in its own
    time zone), of the coordinator's ``countries`` only. The serving
    organisation is the author's: a referral's partner serves too."""
    if not may_see_programme(user) or not countries or not windows:
        return SessionLog.filter(NOBODY)
    each = [
        Q(
            author_id__in=_staff_of(organisation_ids, countries),
            occurred_at__gte=start,
            occurred_at__lt=end,
        )
        for organisation_ids, start, end in windows
    ]
    return SessionLog.filter(Q(*each, join_type=Q.OR))


def programme_reviews(
    user: User, countries: list[Country], organisation_ids: list[int]
) -> QuerySet[ProgressReview]:
    """For counting only: reviews written by officers of ``organisation_ids``
    in the coordinator's ``countries``."""
    if not may_see_programme(user) or not countries:
        return ProgressReview.filter(NOBODY)
    return ProgressReview.filter(officer_id__in=_staff_of(organisation_ids, countries))


# --- users and invitations ---


def can_invite(user: User, role: Role, organisation: Organisation | None = None) -> bool:
    """Whether ``user`` may invite someone with ``role``.

    A coordinator sees figures across organisations, so only an admin of
    the programme's own organisation (``organisation``, the admin's,
    loaded by the caller) names one; no ordinary organisation's admin does.
    """
    if role is Role.COORDINATOR:
        return (
            user.role is Role.ADMIN
            and organisation is not None
            and organisation.id == user.organisation_id
            and organisation.is_programme
        )
    return role in INVITABLE_BY.get(user.role, frozenset())


def can_manage_users(user: User) -> bool:
    return user.role is Role.ADMIN


def same_organisation(user: User, other: User) -> bool:
    return bool(user.organisation_id == other.organisation_id)


# --- sync (pull and conflicts) ---
# A pull reads every kind of row up to one bound (``server.sync.sequence``):
# ``since < seq <= bound``, so one pull's answer is one consistent cut.


def pull_participants(user: User) -> QuerySet[Participant]:
    """The caseload a phone holds: reachable, consent on file, not erased."""
    if user.role not in STAFF:
        return Participant.filter(NOBODY)
    return participants_for(user).filter(consent_given=True, erased_at=None)


def pull_appointments(
    user: User,
    participant_ids: list[uuid.UUID],
    *,
    since: int,
    bound: int,
    renewed: list[uuid.UUID],
) -> QuerySet[Appointment]:
    """Appointments for a pull: changed in ``(since, bound]``, plus every open
    one of the ``renewed`` participants (whose record changed in that window:
    put back on the caseload, consent given again), which the phone may lack."""
    changed = Q(seq__gt=since)
    if renewed:
        changed |= Q(participant_id__in=renewed, status__in=OPEN)
    return appointments_for(user).filter(
        changed, participant_id__in=participant_ids, seq__lte=bound
    )


def pull_open_appointment_ids(
    user: User, participant_ids: list[uuid.UUID]
) -> QuerySet[Appointment]:
    """Every open appointment the user's phone may hold, whatever its change
    number: the phone drops any it holds that is not among them (moved to
    another worker, say, which no longer reaches this worker's pull)."""
    return appointments_for(user).filter(participant_id__in=participant_ids, status__in=OPEN)


def pull_logs(user: User, *, since: int, bound: int) -> QuerySet[SessionLog]:
    """The user's own session logs changed in ``(since, bound]`` (of another
    organisation's participant, only while the referral is live)."""
    return SessionLog.filter(
        Q(author_id=user.id, seq__gt=since, seq__lte=bound) & _own_or_referred(user)
    )


def pull_conflicts(user: User, *, since: int, bound: int) -> QuerySet[Conflict]:
    """The user's own conflicting versions changed in ``(since, bound]``."""
    return Conflict.filter(author_id=user.id, seq__gt=since, seq__lte=bound)


def own_conflicts(user: User, record_type: str) -> QuerySet[Conflict]:
    """Every conflicting version of one kind the user sent (a family's pull)."""
    return Conflict.filter(author_id=user.id, record_type=record_type)


def conflicts_to_resolve(officer: User) -> QuerySet[Conflict]:
    """Conflicts about the participants ``officer`` is responsible for.

    Decided in the query, so an officer sees all of theirs however many
    conflicts the rest of the organisation has.
    """
    if officer.role is not Role.OFFICER:
        return Conflict.filter(NOBODY)
    logs = Subquery(SessionLog.filter(participant_id__in=_caseload(officer)).values("id"))
    answers = Subquery(
        AppointmentResponse.filter(appointment__participant_id__in=_caseload(officer)).values("id")
    )
    return Conflict.filter(
        Q(record_type="session_log", record_id__in=logs)
        | Q(record_type="appointment_response", record_id__in=answers),
        organisation_id=officer.organisation_id,
    )


def conflicting_log(conflict: Conflict) -> QuerySet[SessionLog]:
    """The stored log a conflict is about (the caller reached the conflict
    through ``conflicts_to_resolve``)."""
    return SessionLog.filter(id=conflict.record_id)


def conflicting_appointment(officer: User, conflict: Conflict) -> QuerySet[Appointment]:
    """The appointment a family answer in conflict is about, if the officer manages it."""
    if officer.role is not Role.OFFICER:
        return Appointment.filter(NOBODY)
    return appointments_for(officer).filter(id=parse_id(conflict.payload.get("appointment")))


def applied_family_answers(
    appointment_id: uuid.UUID, *, from_version: int
) -> QuerySet[AppointmentResponse]:
    """Family answers applied to an appointment from ``from_version`` on: what
    moved its version besides the officer (see ``sync.conflicts``)."""
    return AppointmentResponse.filter(
        appointment_id=appointment_id, outcome="applied", base_version__gte=from_version
    )


# --- organisations and import ---


async def organisation_for(user: User, actor: Actor) -> Organisation:
    """The user's own organisation, for its admin to change, or NotFound (audited)."""
    found = None
    if user.role is Role.ADMIN:
        found = await Organisation.filter(id=user.organisation_id).first()
    if found is None:
        raise await denied(actor, "organisation", str(user.organisation_id))
    return found


def may_import(user: User) -> bool:
    """Officers and admins bring their organisation's caseload from a spreadsheet."""
    return user.role in (Role.OFFICER, Role.ADMIN)


def taken_codes(user: User, codes: list[str]) -> QuerySet[Participant]:
    """Which of ``codes`` are in use, anywhere (codes are unique across
    organisations): for an import's check, the codes only, never the rows."""
    if not may_import(user) or not codes:
        return Participant.filter(NOBODY)
    return Participant.filter(code__in=codes)


def importable_staff(user: User) -> QuerySet[User]:
    """The active officers and workers of the user's organisation an import
    may name as responsible officer or assigned worker."""
    if not may_import(user):
        return User.filter(NOBODY)
    return User.filter(
        organisation_id=user.organisation_id,
        role__in=(Role.OFFICER, Role.WORKER),
        is_active=True,
    )


def imported_with_ids(user: User, ids: list[uuid.UUID]) -> QuerySet[Participant]:
    """Participants an import already created under these ids (ids made from
    the preview's batch id: a second confirmation finds the first one's rows).
    For the existence check only, never shown."""
    if not may_import(user) or not ids:
        return Participant.filter(NOBODY)
    return Participant.filter(id__in=ids, organisation_id=user.organisation_id)


# --- reminders (Web Push) ---


def push_subscriptions_for(user: User) -> QuerySet[PushSubscription]:
    """A family member's own phones that receive reminders; nobody else's."""
    if user.role is not Role.FAMILY:
        return PushSubscription.filter(NOBODY)
    return PushSubscription.filter(user_id=user.id)


async def own_push_subscription(user: User, endpoint_hash: str, actor: Actor) -> PushSubscription:
    """The user's own subscription with this endpoint, or NotFound (audited):
    another person's phone answers as if it did not exist."""
    found = await push_subscriptions_for(user).filter(endpoint_hash=endpoint_hash).first()
    if found is None:
        raise await denied(actor, "push_subscription", endpoint_hash[:16])
    return found


def push_subscription_with_endpoint(endpoint_hash: str) -> QuerySet[PushSubscription]:
    """The subscription of a phone, whoever holds it: a phone has one per
    site, so when another family member signs in on it and turns reminders
    on, it passes to them (the endpoint is the phone's secret, never shown)."""
    return PushSubscription.filter(endpoint_hash=endpoint_hash)


def every_push_subscription() -> QuerySet[PushSubscription]:
    """For ``homeward reminders run`` (the system): each subscription is then
    served only the appointments its own family member may see
    (``appointments_for``)."""
    return PushSubscription.all()


# --- referrals (docs/referrals.md) ---
# A referral is live while active and before ``expires_at`` (the end of its
# until-date in the referring organisation's time zone): expiry is decided
# here, at query time, so access ends at once with no job and no change.


def live_referrals(now: datetime | None = None) -> QuerySet[Referral]:
    """Referrals (not transfers, whose case has moved) that give access now."""
    return Referral.filter(
        kind=ReferralKind.REFERRAL,
        status=ReferralStatus.ACTIVE,
        expires_at__gt=now or datetime.now(UTC),
    )


def _referred_to(user: User) -> Subquery:
    """Participants of live referrals the user is assigned to."""
    assigned = Subquery(ReferralWorker.filter(user_id=user.id).values("referral_id"))
    return Subquery(live_referrals().filter(id__in=assigned).values("participant_id"))


async def loggable_pillars(user: User, participant: Participant) -> frozenset[str]:
    """The pillars ``user`` may log for a participant already reached through
    ``loggable_participant``: all of them in their own organisation, the
    referred ones of their live referrals otherwise."""
    found = await pull_pillars(user, [(participant.id, participant.organisation_id)])
    return found[participant.id]


async def pull_pillars(
    user: User, participants: list[tuple[uuid.UUID, int]]
) -> dict[uuid.UUID, frozenset[str]]:
    """For each participant the user reaches (id, organisation), the pillars
    they may log."""
    every = frozenset(p.value for p in Pillar)
    answer = {pid: every for pid, org in participants if org == user.organisation_id}
    others = [pid for pid, _org in participants if pid not in answer]
    if not others:
        return answer
    assigned = Subquery(ReferralWorker.filter(user_id=user.id).values("referral_id"))
    rows = await (
        live_referrals()
        .filter(id__in=assigned, participant_id__in=others)
        .values_list("participant_id", "pillars")
    )
    found: dict[uuid.UUID, set[str]] = {pid: set() for pid in others}
    for participant_id, pillars in rows:
        found[participant_id].update(p for p in str(pillars).split(",") if p)
    answer.update({pid: frozenset(pillars) for pid, pillars in found.items()})
    return answer


def referrals_made(user: User) -> QuerySet[Referral]:
    """Referrals of the participants the officer is responsible for."""
    if user.role is not Role.OFFICER:
        return Referral.filter(NOBODY)
    return Referral.filter(
        participant_id__in=_own_caseload(user), from_organisation_id=user.organisation_id
    )


def referrals_received(user: User) -> QuerySet[Referral]:
    """The partner's inbox: referrals addressed to the user's organisation,
    for its officers and administrators."""
    if user.role not in (Role.OFFICER, Role.ADMIN):
        return Referral.filter(NOBODY)
    return Referral.filter(to_organisation_id=user.organisation_id)


async def referral_to_decide(user: User, referral_id: Any, actor: Actor) -> Referral:
    """A referral the user's organisation received (to accept, decline,
    assign workers or end), or NotFound (audited)."""
    query = referrals_received(user).prefetch_related("participant")
    return await _one(query, referral_id, actor, "referral")


async def referral_to_end(user: User, referral_id: Any, actor: Actor) -> Referral:
    """A referral either side may end: the referring officer's or one
    received by the user's organisation; or NotFound (audited)."""
    if user.role is Role.OFFICER:
        mine = Q(participant_id__in=_own_caseload(user), from_organisation_id=user.organisation_id)
        query = Referral.filter(mine | Q(to_organisation_id=user.organisation_id))
    else:
        query = referrals_received(user)
    return await _one(query.prefetch_related("participant"), referral_id, actor, "referral")


def referrals_of_participant(participant: Participant) -> QuerySet[Referral]:
    """Every referral of a participant already reached through this module
    (ending them all when consent is withdrawn, the officer's list)."""
    return Referral.filter(participant_id=participant.id)


def referral_assignments(referral: Referral) -> QuerySet[ReferralWorker]:
    """The workers assigned to a referral already reached through this module."""
    return ReferralWorker.filter(referral_id=referral.id)


def referral_partners(user: User) -> QuerySet[Organisation]:
    """Organisations an officer may refer to: any in the app but their own
    and the programme's office (which serves nobody)."""
    if user.role is not Role.OFFICER:
        return Organisation.filter(NOBODY)
    return Organisation.filter(is_programme=False).exclude(id=user.organisation_id)


def assignable_partner_staff(user: User) -> QuerySet[User]:
    """The active workers of the user's organisation an accepting officer or
    admin may assign to a referral it received."""
    if user.role not in (Role.OFFICER, Role.ADMIN):
        return User.filter(NOBODY)
    return User.filter(organisation_id=user.organisation_id, role=Role.WORKER, is_active=True)


def assignable_partner_officers(user: User) -> QuerySet[User]:
    """Officers of the user's organisation who may take over a transfer."""
    if user.role not in (Role.OFFICER, Role.ADMIN):
        return User.filter(NOBODY)
    return User.filter(organisation_id=user.organisation_id, role=Role.OFFICER, is_active=True)


def referred_participant(referral: Referral) -> QuerySet[Participant]:
    """The one participant of a referral already reached through this module."""
    return Participant.filter(id=referral.participant_id)


async def cancel_open_appointments_of(conn: Any, participant_id: uuid.UUID, *, seq: int) -> int:
    """A transfer moves the case: the old organisation's open appointments
    with the participant are cancelled (the new officer makes their own)."""
    return await (
        Appointment.filter(participant_id=participant_id, status__in=OPEN)
        .using_db(conn)
        .update(status=AppointmentStatus.CANCELLED, seq=seq)
    )
