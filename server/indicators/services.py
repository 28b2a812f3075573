"""Programme indicators of one organisation for one period, counted in the database.

- Participants supported: those with at least one session *attended* in the
  period (a missed or cancelled session supported no one), by gender and by
  age band at the period's last day.
- Sessions by pillar and attendance: every session log in the period.
- Participants with a session attended under every one of the four pillars.
- Progress reviews dated in the period, and their ratings per pillar.

Each figure is one aggregate query; nothing is loaded row by row. Users see
only their own organisation (officers and admins alike: least privilege).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from tortoise.expressions import Case, Q, Subquery, When
from tortoise.functions import Count

from server import policy
from server.accounts.models import User
from server.audit.services import Actor
from server.enums import Attendance, Gender, Pillar, ReviewStatus, Role
from server.indicators.period import Period
from server.orgs.models import Organisation


class AgeBand(StrEnum):
    UNDER_18 = "under_18"
    FROM_18 = "18_24"
    FROM_25 = "25_34"
    FROM_35 = "35_44"
    FROM_45 = "45_plus"
    UNKNOWN = "unknown"


# Lower age of each band after the first, oldest last.
BAND_STARTS = (
    (18, AgeBand.FROM_18),
    (25, AgeBand.FROM_25),
    (35, AgeBand.FROM_35),
    (45, AgeBand.FROM_45),
)


@dataclass(frozen=True)
class Indicators:
    organisation: Organisation
    period: Period
    supported: dict[tuple[Gender, AgeBand], int]
    sessions: dict[tuple[Pillar, Attendance], int]
    every_pillar: int
    reviews: int
    outcomes: dict[tuple[Pillar, ReviewStatus], int]

    @property
    def supported_total(self) -> int:
        return sum(self.supported.values())

    def supported_by_gender(self, gender: Gender) -> int:
        return sum(n for (g, _), n in self.supported.items() if g is gender)

    def supported_by_band(self, band: AgeBand) -> int:
        return sum(n for (_, b), n in self.supported.items() if b is band)

    def sessions_by_pillar(self, pillar: Pillar) -> int:
        return sum(n for (p, _), n in self.sessions.items() if p is pillar)


def born_before_or_on(day: date, years: int) -> date:
    """The last birth date of someone ``years`` old on ``day`` (29 February → 28)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_band(period: Period, prefix: str = "") -> Case:
    """The age band on the period's last day, as a query expression.

    ``prefix`` reaches the participant from another model
    (``"participant__"`` from a session log: the programme's figures).
    """
    born = f"{prefix}date_of_birth"
    # Youngest first: the first band whose lower age is not reached yet.
    unknown: dict[str, Any] = {f"{born}__isnull": True}
    whens = [When(**unknown, then=AgeBand.UNKNOWN.value)]
    younger = AgeBand.UNDER_18
    for years, band in BAND_STARTS:
        after: dict[str, Any] = {f"{born}__gt": born_before_or_on(period.last, years)}
        whens.append(When(**after, then=younger.value))
        younger = band
    return Case(*whens, default=AgeBand.FROM_45.value)


def _in_period(period: Period) -> Q:
    return Q(occurred_at__gte=period.start, occurred_at__lt=period.end)


async def compute(*, user: User, period: Period, actor: Actor) -> Indicators:
    """The indicators of the user's organisation for ``period``.

    Raises:
        NotFound: the user is neither an officer nor an admin (audited).
    """
    if user.role not in (Role.OFFICER, Role.ADMIN):
        raise await policy.denied(actor, "indicators", str(user.organisation_id))
    org_id = user.organisation_id
    in_period = _in_period(period)
    logs = policy.organisation_logs(user)
    attended = logs.filter(in_period, attendance=Attendance.ATTENDED)
    supported_rows = (
        await policy.organisation_participants(user)
        .filter(id__in=Subquery(attended.values("participant_id")))
        .annotate(band=age_band(period))
        .annotate(n=Count("id"))
        .group_by("gender", "band")
        .values("gender", "band", "n")
    )
    session_rows = (
        await logs.filter(in_period)
        .group_by("pillar", "attendance")
        .annotate(n=Count("id"))
        .values("pillar", "attendance", "n")
    )
    all_four = (
        logs.filter(in_period, attendance=Attendance.ATTENDED)
        .group_by("participant_id")
        .annotate(pillars=Count("pillar", distinct=True))
        .filter(pillars=len(Pillar))
        .values("participant_id")
    )
    every_pillar = (
        await policy.organisation_participants(user).filter(id__in=Subquery(all_four)).count()
    )
    reviews, outcomes = await _reviews(user, period)
    return Indicators(
        organisation=await Organisation.get(id=org_id),
        period=period,
        supported={
            (Gender(str(r["gender"])), AgeBand(str(r["band"]))): int(r["n"]) for r in supported_rows
        },
        sessions={
            (Pillar(str(r["pillar"])), Attendance(str(r["attendance"]))): int(r["n"])
            for r in session_rows
        },
        every_pillar=every_pillar,
        reviews=reviews,
        outcomes=outcomes,
    )


async def _reviews(
    user: User, period: Period
) -> tuple[int, dict[tuple[Pillar, ReviewStatus], int]]:
    # One query groups by the four ratings together (at most 81 rows), and
    # the per-pillar totals are summed here.
    columns = [pillar.value for pillar in Pillar]
    rows = (
        await policy.organisation_reviews(user)
        .filter(
            reviewed_on__gte=period.first,
            reviewed_on__lte=period.last,
        )
        .group_by(*columns)
        .annotate(n=Count("id"))
        .values(*columns, "n")
    )
    outcomes: dict[tuple[Pillar, ReviewStatus], int] = {}
    for row in rows:
        for pillar in Pillar:
            key = (pillar, ReviewStatus(str(row[pillar.value])))
            outcomes[key] = outcomes.get(key, 0) + int(row["n"])
    return sum(int(r["n"]) for r in rows), outcomes
