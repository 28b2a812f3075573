"""The officer's caseload dashboard: one page of 25 participants with their facts.

"Open follow-up": a session log whose author asked for follow-up
(``follow_up``) and that no officer has marked reviewed yet. Reviewing the
log (with a comment saying what was done) is how an officer closes it.

Figures for the page are one GROUP BY query each over the page's 25 ids;
the caseload-wide facts that decide the page come from ``caseload``.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tortoise.expressions import Q
from tortoise.functions import Count, Min

from server import policy
from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import AppointmentStatus, Attendance, Pillar, ReviewStatus, Role
from server.reviews import caseload
from server.reviews.caseload import Sort
from server.reviews.labels import Flag

PAGE_SIZE = 25
RECENT_DAYS = 30
WINDOW_DAYS = 90


@dataclass(frozen=True)
class Filters:
    sort: Sort = Sort.CODE
    flag: Flag | None = None
    pillar: Pillar | None = None
    page: int = 1


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    code: str
    flags: frozenset[Flag]
    last_contact: datetime | None
    # Sessions attended under each pillar in the last 30 and 90 days.
    recent: dict[Pillar, int] = field(default_factory=dict)
    window: dict[Pillar, int] = field(default_factory=dict)
    # Attended ÷ (attended + missed) over 90 days; None without such sessions.
    attendance_rate: float | None = None
    open_follow_ups: int = 0
    next_appointment: datetime | None = None
    reviewed_on: date | None = None
    statuses: dict[Pillar, ReviewStatus] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    filters: Filters
    number: int
    pages: int
    total: int


async def _sessions(
    officer: User, ids: list[uuid.UUID], now: datetime
) -> dict[uuid.UUID, list[dict[str, object]]]:
    rows = (
        await policy.caseload_logs(officer)
        .filter(participant_id__in=ids, occurred_at__gte=now - timedelta(days=WINDOW_DAYS))
        .group_by("participant_id", "pillar", "attendance")
        .annotate(
            window=Count("id"),
            recent=Count("id", _filter=Q(occurred_at__gte=now - timedelta(days=RECENT_DAYS))),
        )
        .values("participant_id", "pillar", "attendance", "window", "recent")
    )
    grouped: dict[uuid.UUID, list[dict[str, object]]] = {}
    for row in rows:
        grouped.setdefault(uuid.UUID(str(row["participant_id"])), []).append(row)
    return grouped


async def _open_follow_ups(officer: User, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = (
        await policy.caseload_logs(officer)
        .filter(participant_id__in=ids, follow_up=True, reviewed_at__isnull=True)
        .group_by("participant_id")
        .annotate(n=Count("id"))
        .values("participant_id", "n")
    )
    return {uuid.UUID(str(row["participant_id"])): int(row["n"]) for row in rows}


async def _next_appointments(
    officer: User, ids: list[uuid.UUID], now: datetime
) -> dict[uuid.UUID, datetime]:
    rows = (
        await policy.appointments_for(officer)
        .filter(
            participant_id__in=ids,
            starts_at__gte=now,
            status__in=[AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED],
        )
        .group_by("participant_id")
        .annotate(next=Min("starts_at"))
        .values("participant_id", "next")
    )
    return {uuid.UUID(str(row["participant_id"])): row["next"] for row in rows}


def _row(
    pid: uuid.UUID,
    view: caseload.Overview,
    sessions: list[dict[str, object]],
    follow_ups: int,
    next_at: datetime | None,
) -> Row:
    recent = dict.fromkeys(Pillar, 0)
    window = dict.fromkeys(Pillar, 0)
    attended = missed = 0
    for item in sessions:
        count = int(str(item["window"]))
        if item["attendance"] == Attendance.ATTENDED:
            pillar = Pillar(str(item["pillar"]))
            recent[pillar] += int(str(item["recent"]))
            window[pillar] += count
            attended += count
        elif item["attendance"] == Attendance.MISSED:
            missed += count
    review = view.latest_review.get(pid)
    return Row(
        id=pid,
        code=view.codes[pid],
        flags=view.flags[pid],
        last_contact=view.last_contact.get(pid),
        recent=recent,
        window=window,
        attendance_rate=attended / (attended + missed) if attended + missed else None,
        open_follow_ups=follow_ups,
        next_appointment=next_at,
        reviewed_on=review.reviewed_on if review else None,
        statuses=review.statuses if review else {},
    )


async def dashboard(
    *, officer: User, filters: Filters, now: datetime, today: date, actor: Actor
) -> Page:
    """One page of the officer's caseload with its figures and flags.

    Args:
        officer: the signed-in officer.
        filters: sort order, flag and pillar filters, page number.
        now: the current instant; today: the officer's local date.

    Raises:
        NotFound: the user is not an officer (audited).
    """
    if officer.role is not Role.OFFICER:
        raise await policy.denied(actor, "participant", "dashboard")
    view = await caseload.overview(officer=officer, now=now, today=today)
    only = (
        await caseload.with_sessions_in(officer=officer, pillar=filters.pillar, now=now)
        if filters.pillar
        else None
    )
    ids = caseload.ordered(view, sort=filters.sort, flag=filters.flag, only=only)
    pages = max(math.ceil(len(ids) / PAGE_SIZE), 1)
    number = min(max(filters.page, 1), pages)
    page_ids = ids[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    rows: list[Row] = []
    if page_ids:
        sessions = await _sessions(officer, page_ids, now)
        follow_ups = await _open_follow_ups(officer, page_ids)
        upcoming = await _next_appointments(officer, page_ids, now)
        rows = [
            _row(pid, view, sessions.get(pid, []), follow_ups.get(pid, 0), upcoming.get(pid))
            for pid in page_ids
        ]
    await record(
        actor=actor,
        action="participant.listed",
        object_type="participant",
        detail={"view": "dashboard", "page": number, "count": len(rows)},
    )
    return Page(rows, filters, number, pages, len(ids))
