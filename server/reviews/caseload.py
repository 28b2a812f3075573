"""The officer's whole caseload, reduced to what ordering and filtering need.

Sorting by last contact or by flags, and filtering by flag, decide which 25
participants make a page, so these facts are needed for the whole caseload.
Each is one aggregate query over the caseload (a subquery on the officer),
answering one small row per participant, never the session logs themselves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from server import policy
from server.accounts.models import User
from server.enums import Attendance, Pillar, ReviewStatus
from server.reviews import sql
from server.reviews.labels import Flag
from server.reviews.models import ProgressReview

NO_CONTACT_DAYS = 21
# The pillar filter looks this far back for sessions under the pillar.
PILLAR_WINDOW_DAYS = 90
NEVER = datetime.min.replace(tzinfo=UTC)


class Sort(StrEnum):
    CODE = "code"
    CONTACT = "contact"
    FLAGS = "flags"


@dataclass(frozen=True)
class LatestReview:
    """What the dashboard needs of a participant's latest review (not the summary)."""

    reviewed_on: date
    next_review_on: date | None
    statuses: dict[Pillar, ReviewStatus]


@dataclass(frozen=True)
class Overview:
    """Per participant of the caseload: code, last contact, latest review, flags."""

    codes: dict[uuid.UUID, str]
    last_contact: dict[uuid.UUID, datetime]
    latest_review: dict[uuid.UUID, LatestReview]
    flags: dict[uuid.UUID, frozenset[Flag]]


async def latest_reviews(officer: User) -> dict[uuid.UUID, LatestReview]:
    """Each participant's latest review: plain values, no model objects to build."""
    ids = await sql.latest_review_ids(
        organisation_id=officer.organisation_id, officer_id=officer.id
    )
    if not ids:
        return {}
    columns = [pillar.value for pillar in Pillar]
    rows = (
        await policy.reviews_for(officer)
        .filter(id__in=list(ids))
        .values("participant_id", "reviewed_on", "next_review_on", *columns)
    )
    return {
        uuid.UUID(str(row["participant_id"])): LatestReview(
            row["reviewed_on"],
            row["next_review_on"],
            {pillar: ReviewStatus(str(row[pillar.value])) for pillar in Pillar},
        )
        for row in rows
    }


async def overview(*, officer: User, now: datetime, today: date) -> Overview:
    """Flags and sort keys of every participant the officer is responsible for.

    Args:
        officer: the signed-in officer (the caller checked the role).
        now: the current instant, for "no contact for 21 days".
        today: the officer's local date, for "review overdue".

    Returns:
        The caseload's codes, last contacts, latest reviews and flags.
    """
    codes = {
        uuid.UUID(str(pid)): code
        for pid, code in await policy.participants_for(officer).values_list("id", "code")
    }
    last = await sql.last_contacts(organisation_id=officer.organisation_id, officer_id=officer.id)
    reviews = await latest_reviews(officer)
    missed = await sql.repeatedly_missed(
        organisation_id=officer.organisation_id, officer_id=officer.id
    )
    cutoff = now - timedelta(days=NO_CONTACT_DAYS)
    flags: dict[uuid.UUID, frozenset[Flag]] = {}
    for pid in codes:
        found: set[Flag] = set()
        if pid not in last or last[pid] < cutoff:
            found.add(Flag.NO_CONTACT)
        if pid in missed:
            found.add(Flag.MISSED)
        review = reviews.get(pid)
        if review is not None:
            if ReviewStatus.SERIOUS_CONCERNS in review.statuses.values():
                found.add(Flag.SERIOUS)
            if review.next_review_on is not None and review.next_review_on < today:
                found.add(Flag.OVERDUE)
        flags[pid] = frozenset(found)
    return Overview(codes, last, reviews, flags)


def review_statuses(review: ProgressReview) -> dict[Pillar, ReviewStatus]:
    """A review's rating under each pillar, in the programme's order."""
    return {pillar: ReviewStatus(getattr(review, pillar.value)) for pillar in Pillar}


async def with_sessions_in(*, officer: User, pillar: Pillar, now: datetime) -> set[uuid.UUID]:
    """Participants with a session attended under ``pillar`` in the last 90 days."""
    rows = (
        await policy.caseload_logs(officer)
        .filter(
            pillar=pillar,
            attendance=Attendance.ATTENDED,
            occurred_at__gte=now - timedelta(days=PILLAR_WINDOW_DAYS),
        )
        .distinct()
        .values_list("participant_id", flat=True)
    )
    return {uuid.UUID(str(pid)) for pid in rows}


def ordered(
    view: Overview, *, sort: Sort, flag: Flag | None, only: set[uuid.UUID] | None
) -> list[uuid.UUID]:
    """The caseload's ids, filtered and in the chosen order (code breaks ties).

    Longest without contact comes first (never seen before anyone seen), and
    most flags first: the order in which an officer should look.
    """
    ids = [pid for pid in view.codes if (flag is None or flag in view.flags[pid])]
    if only is not None:
        ids = [pid for pid in ids if pid in only]
    ids.sort(key=lambda pid: view.codes[pid])
    if sort is Sort.CONTACT:
        ids.sort(key=lambda pid: view.last_contact.get(pid, NEVER))
    elif sort is Sort.FLAGS:
        ids.sort(key=lambda pid: -len(view.flags[pid]))
    return ids
