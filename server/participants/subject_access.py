"""Subject access: everything held about one participant, in one place.

Produced for the participant on request (humanitarian data-protection
practice): a readable document in their language and the same facts as
machine-readable JSON. The export itself is audited.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from tortoise.expressions import Q

from server import policy
from server.accounts.models import User
from server.audit.models import AuditEvent
from server.audit.services import Actor, record
from server.participants.models import Participant


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _row(model: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(model, name)) for name in fields}


async def gather(*, officer: User, participant_id: Any, actor: Actor) -> dict[str, Any]:
    """All records about the participant the officer is responsible for.

    Raises:
        NotFound: not the officer's participant (audited by the policy).
    """
    participant: Participant = await policy.responsible_for(officer, participant_id, actor)
    mine = {"participant_id": participant.id}
    logs = await policy.logs_for(officer).filter(**mine).order_by("occurred_at")
    log_ids = [log.id for log in logs]
    appointments = await policy.appointments_for(officer).filter(**mine).order_by("starts_at")
    appointment_ids = [a.id for a in appointments]
    subjects = [str(participant.id), *map(str, log_ids), *map(str, appointment_ids)]
    events = await AuditEvent.filter(Q(object_id__in=subjects)).order_by("id")
    data = {
        "participant": _row(
            participant,
            (
                "id",
                "code",
                "full_name",
                "gender",
                "date_of_birth",
                "release_date",
                "language",
                "consent_given",
                "consent_date",
                "created_at",
            ),
        ),
        "consent_history": [
            _row(c, ("given", "on_date", "recorded_at"))
            for c in await policy.consents_for(officer).filter(**mine).order_by("recorded_at")
        ],
        "plan_goals": [
            _row(g, ("pillar", "text", "status", "created_at"))
            for g in await policy.goals_for(officer).filter(**mine)
        ],
        "session_logs": [
            {
                **_row(
                    log,
                    (
                        "id",
                        "pillar",
                        "form_version",
                        "occurred_at",
                        "duration_minutes",
                        "place",
                        "attendance",
                        "engagement",
                        "notes",
                        "follow_up",
                        "reviewed_at",
                        "review_comment",
                        "revision",
                    ),
                ),
                "answers": log.answers,
            }
            for log in logs
        ],
        "session_log_history": [
            {"session_log": str(r.session_log_id), "revision": r.revision, "snapshot": r.snapshot}  # type: ignore[attr-defined]
            for r in await policy.revisions_for(officer).filter(session_log_id__in=log_ids)
        ],
        "appointments": [
            _row(
                a,
                (
                    "id",
                    "pillar",
                    "starts_at",
                    "ends_at",
                    "place",
                    "what_to_bring",
                    "status",
                    "family_visible",
                    "family_response",
                    "family_message",
                ),
            )
            for a in appointments
        ],
        "family_answers": [
            _row(r, ("appointment_id", "response", "message", "received_at", "outcome"))
            for r in await policy.responses_for(officer).filter(appointment_id__in=appointment_ids)
        ],
        "progress_reviews": [
            _row(
                r,
                (
                    "reviewed_on",
                    "family",
                    "education",
                    "vocational",
                    "counselling",
                    "summary",
                    "next_review_on",
                ),
            )
            for r in await policy.reviews_for(officer).filter(**mine)
        ],
        "needs_assessments": [
            _row(
                a,
                (
                    "id",
                    "assessed_on",
                    "form_version",
                    "answers",
                    "risk_note",
                    "general_note",
                    "created_at",
                ),
            )
            for a in await policy.assessments_for(officer).filter(**mine).order_by("assessed_on")
        ],
        "audit_events": [
            _row(e, ("at", "actor_id", "action", "object_type", "object_id")) for e in events
        ],
    }
    await record(
        actor=actor,
        action="participant.subject_access",
        object_type="participant",
        object_id=str(participant.id),
    )
    return data
