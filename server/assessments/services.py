"""Needs assessments: record one, read the history, propose goals and referrals.

An assessment is never changed: each is a dated judgement by the
responsible officer, with the version of the declaration it was made with.
The risk note and the general note stay with the officer's organisation:
``shared_summary`` is the one way a pillar's answers leave the assessment,
and it never reads the notes.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.assessments.declaration import (
    GENERAL_NOTE,
    LATEST,
    NEED_LABELS,
    RISK_NOTE,
    Declaration,
    Need,
    declaration,
    need,
)
from server.assessments.models import AcceptedGoal, NeedsAssessment
from server.audit.services import Actor, record
from server.enums import Pillar, Role
from server.errors import Invalid
from server.forms.form import Questions
from server.forms.validator import MultiDict, Result, validate
from server.i18n import N_, Translator
from server.participants import plan
from server.participants.forms import GoalInput
from server.participants.models import Participant, PlanGoal

# Assessed at intake, then again after this many months.
DUE_MONTHS = 6
HISTORY_LIMIT = 50
PROPOSING = (Need.SOME, Need.HIGH)

# The goal each pillar's need proposes, in the officer's language when taken.
GOALS = {
    Pillar.FAMILY: N_("Prepare the return home together with the family"),
    Pillar.EDUCATION: N_("Join a class or a course"),
    Pillar.VOCATIONAL: N_("Join a vocational training and get the documents needed for work"),
    Pillar.COUNSELLING: N_("Take part in counselling sessions"),
}


@dataclass(frozen=True)
class Proposal:
    """A goal the assessment proposes; ``goal`` once the officer took it."""

    pillar: Pillar
    need: Need
    text: str  # msgid
    goal: PlanGoal | None


@dataclass(frozen=True)
class AssessmentView:
    """A stored assessment as pages show it."""

    assessment: NeedsAssessment
    declaration: Declaration
    needs: dict[Pillar, Need | None]
    due_on: date

    @property
    def questions(self) -> Questions:
        return self.declaration.questions


def check(data: Mapping[str, Any] | MultiDict, *, now: datetime) -> Result[Questions]:
    """The latest declaration's answers checked by the forms' one validator."""
    return validate(declaration(LATEST).questions, data, now=now)


def add_months(day: date, months: int) -> date:
    """``day`` that many months later; the month's last day when it is shorter."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def needs_of(assessment: NeedsAssessment) -> dict[Pillar, Need | None]:
    answers = assessment.answers or {}
    found: dict[Pillar, Need | None] = {}
    for pillar in Pillar:
        value = answers.get(need(pillar))
        found[pillar] = Need(value) if value in set(Need) else None
    return found


def view(assessment: NeedsAssessment) -> AssessmentView:
    return AssessmentView(
        assessment,
        declaration(assessment.form_version),
        needs_of(assessment),
        add_months(assessment.assessed_on, DUE_MONTHS),
    )


async def create(
    *,
    officer: User,
    participant: Participant,
    result: Result[Questions],
    today: date,
    actor: Actor,
) -> NeedsAssessment:
    """Store a checked assessment dated ``today`` and audit it (need levels only).

    Args:
        officer: the responsible officer (the caller checked with ``responsible_for``).
        participant: the participant assessed.
        result: a validation without errors (``check``).
        today: the officer's local date.

    Raises:
        Invalid: ``result`` has errors.
    """
    if not result.ok:
        raise Invalid()
    answers = result.as_json()
    notes = {key: answers.pop(key, None) or "" for key in (RISK_NOTE, GENERAL_NOTE)}
    async with in_transaction() as conn:
        assessment = await NeedsAssessment.create(
            using_db=conn,
            id=uuid.uuid4(),
            participant=participant,
            officer=officer,
            form_version=result.form.version,
            assessed_on=today,
            answers=answers,
            **notes,
        )
        await record(
            actor=actor,
            action="assessment.created",
            object_type="participant",
            object_id=str(participant.id),
            detail={
                "assessment": str(assessment.id),
                **{p.value: answers.get(need(p)) for p in Pillar},
            },
        )
    return assessment


async def history(
    user: User, participant: Participant, limit: int = HISTORY_LIMIT
) -> list[AssessmentView]:
    """The participant's assessments the user may read, newest first."""
    found = (
        await policy.assessments_for(user)
        .filter(participant_id=participant.id)
        .order_by("-assessed_on", "-created_at")
        .limit(limit)
        .prefetch_related("officer")
    )
    return [view(a) for a in found]


async def read_history(
    *, user: User, participant: Participant, actor: Actor
) -> list[AssessmentView]:
    """``history``, with the read audited (the notes are in it)."""
    found = await history(user, participant)
    await record(
        actor=actor,
        action="assessment.read",
        object_type="participant",
        object_id=str(participant.id),
        detail={"assessments": len(found)},
    )
    return found


def proposed_referral_pillars(assessment: NeedsAssessment) -> list[Pillar]:
    """The pillars to refer to a partner: those with some or high need, in
    the pillars' order."""
    return [p for p, n in needs_of(assessment).items() if n in PROPOSING]


async def proposals(user: User, assessment: NeedsAssessment) -> list[Proposal]:
    """The goals ``assessment`` proposes, each with the goal taken from it if any."""
    taken = {
        a.pillar: a.goal
        for a in await policy.accepted_goals_for(user)
        .filter(assessment_id=assessment.id)
        .prefetch_related("goal")
    }
    needs = needs_of(assessment)
    return [
        Proposal(p, level, GOALS[p], taken.get(p))
        for p, level in needs.items()
        if level is not None and level in PROPOSING
    ]


async def section(*, user: User, participant: Participant, today: date) -> dict[str, Any]:
    """Context for the needs section of the participant page (the officer's only).

    Returns:
        ``assessment_shown``, ``assessment`` (the latest ``AssessmentView`` or
        None), ``assessment_due`` (no assessment yet, or past its due date),
        ``proposals`` and ``referral_pillars``.
    """
    if user.role is not Role.OFFICER:
        return {"assessment_shown": False}
    latest = await history(user, participant, limit=1)
    current = latest[0] if latest else None
    return {
        "assessment_shown": True,
        "assessment": current,
        "assessment_due": current is None or current.due_on <= today,
        "proposals": await proposals(user, current.assessment) if current else [],
        "referral_pillars": proposed_referral_pillars(current.assessment) if current else [],
        "need_labels": NEED_LABELS,
    }


class NotProposed(Invalid):
    code = "not_proposed"

    def __init__(self) -> None:
        super().__init__(N_("This assessment does not propose a goal for this pillar."))


@dataclass(frozen=True)
class Accepted:
    goal: PlanGoal
    created: bool  # False: it was taken before (a second tap, another tab)


async def accept(
    *,
    officer: User,
    participant: Participant,
    assessment_id: Any,
    pillar: Any,
    translator: Translator,
    actor: Actor,
) -> Accepted:
    """Turn one proposal into a goal of the plan, once.

    The goal is added through the plan's own service; a second tap, or the
    same proposal taken in another tab at the same moment, finds the first
    goal (one row per assessment and pillar, enforced by the database).

    Args:
        officer: the responsible officer.
        participant: from ``responsible_for``: the page the proposal was taken on.
        assessment_id: as sent; another participant's, another officer's or a
            made-up one is NotFound (audited).
        pillar: as sent.
        translator: the officer's language: the goal's wording is theirs to keep or change.

    Raises:
        NotFound: not an assessment of the officer's participants.
        NotProposed: the assessment proposes no goal for ``pillar``.
    """
    assessment = await policy.assessment_for(officer, assessment_id, actor)
    if assessment.participant_id != participant.id:
        raise await policy.denied(actor, "needs_assessment", str(assessment.id))
    wanted = Pillar(pillar) if pillar in set(Pillar) else None
    if wanted is None or wanted not in proposed_referral_pillars(assessment):
        raise NotProposed()
    already = await _taken(officer, assessment, wanted)
    if already is not None:
        return Accepted(already, created=False)
    text = translator.gettext(GOALS[wanted])
    try:
        async with in_transaction() as conn:
            goal = await plan.add(
                officer=officer,
                participant=participant,
                data=GoalInput(pillar=wanted, status=None, text=text),
                actor=actor,
            )
            await AcceptedGoal.create(
                using_db=conn, assessment=assessment, pillar=wanted, goal=goal
            )
    except IntegrityError:
        # Taken at the same moment elsewhere: that goal stands, this one was
        # rolled back with its audit event.
        taken = await _taken(officer, assessment, wanted)
        assert taken is not None
        return Accepted(taken, created=False)
    return Accepted(goal, created=True)


async def _taken(officer: User, assessment: NeedsAssessment, pillar: Pillar) -> PlanGoal | None:
    found = (
        await policy.accepted_goals_for(officer)
        .filter(assessment_id=assessment.id, pillar=pillar)
        .prefetch_related("goal")
        .first()
    )
    return found.goal if found else None


def shared_summary(assessment: NeedsAssessment, pillars: Iterable[Pillar]) -> dict[str, Any]:
    """What a referral may show the partner of ``assessment``: the answers of
    the sections of ``pillars``, and nothing else.

    Never the risk note or the general note (kept in their own columns and
    never read here), never another pillar's answers. For the referral's
    page (server/referrals/), which words them with the declaration of
    ``form_version`` (``server.assessments.declaration.declaration``).

    Returns:
        ``{"form_version": 1, "assessed_on": "2026-11-02", "pillars":
        {"education": {"education_schooling": "primary", …}}}``, pillars in
        the pillars' order, each with only its own section's keys.
    """
    version = declaration(assessment.form_version)
    answers = assessment.answers or {}
    wanted = set(pillars)
    return {
        "form_version": version.version,
        "assessed_on": assessment.assessed_on.isoformat(),
        "pillars": {
            p.value: {k: answers[k] for k in version.pillar_keys(p) if k in answers}
            for p in Pillar
            if p in wanted
        },
    }
