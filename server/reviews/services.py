"""Progress reviews: write one, read the history, the latest for the participant page.

Reviews are never changed or removed: each is a dated judgement, and the
history is what shows a participant's course.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.transactions import in_transaction

from server import policy
from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import Pillar, ReviewStatus, Role
from server.participants.models import Participant
from server.reviews.caseload import review_statuses
from server.reviews.forms import ReviewInput
from server.reviews.labels import STATUSES
from server.reviews.models import ProgressReview
from server.sync.sequence import next_seq

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class ReviewView:
    """A stored review as pages show it: ratings in the pillars' order."""

    review: ProgressReview
    statuses: dict[Pillar, ReviewStatus]


async def create(
    *, officer: User, participant: Participant, data: ReviewInput, today: date, actor: Actor
) -> ProgressReview:
    """Store a progress review dated ``today`` and audit it (without the summary).

    Args:
        officer: the responsible officer (the caller checked with ``responsible_for``).
        participant: the participant reviewed.
        data: the checked form (``forms.check_review``).
        today: the officer's local date.
    """
    async with in_transaction() as conn:
        review = await ProgressReview.create(
            using_db=conn,
            id=uuid.uuid4(),
            participant=participant,
            officer=officer,
            summary=data.summary,
            reviewed_on=today,
            next_review_on=data.next_review_on,
            seq=await next_seq(conn),
            **{pillar.value: status for pillar, status in data.statuses.items()},
        )
        await record(
            actor=actor,
            action="review.created",
            object_type="participant",
            object_id=str(participant.id),
            detail={
                "review": str(review.id),
                **{p.value: s.value for p, s in data.statuses.items()},
            },
        )
    return review


async def history(
    user: User, participant: Participant, limit: int = HISTORY_LIMIT
) -> list[ReviewView]:
    """The participant's reviews the user may read, newest first (index on participant, date)."""
    reviews = (
        await policy.reviews_for(user)
        .filter(participant_id=participant.id)
        .order_by("-reviewed_on", "-created_at")
        .limit(limit)
        .prefetch_related("officer")
    )
    return [ReviewView(r, review_statuses(r)) for r in reviews]


async def section(*, user: User, participant: Participant) -> dict[str, Any]:
    """Context for the progress section of the participant page (officers only).

    Returns:
        ``progress`` (the latest ``ReviewView`` or None), ``progress_shown``
        (whether the section is shown at all) and the ratings' wording.
    """
    if user.role is not Role.OFFICER:
        return {"progress": None, "progress_shown": False, "review_statuses": STATUSES}
    latest = await history(user, participant, limit=1)
    return {
        "progress": latest[0] if latest else None,
        "progress_shown": True,
        "review_statuses": STATUSES,
    }
