"""Sessions and engagement per pillar and month: the progress page's charts.

Months are the reader's calendar months: their boundaries are local
midnights converted to UTC, so a session late on the last evening of a
month counts in that month wherever the officer is. One GROUP BY query per
participant answers all six months (a filtered count and average per month).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Avg, Count

from server import policy
from server.accounts.models import User
from server.enums import Attendance, Pillar
from server.participants.models import Participant
from server.reviews.charts import Chart, bar_chart

MONTHS = 6
ENGAGEMENT_MAX = 5  # the session form's engagement scale runs 1–5


@dataclass(frozen=True)
class Month:
    start: date
    sessions: int
    engagement: float | None


@dataclass(frozen=True)
class Series:
    pillar: Pillar
    months: list[Month]
    sessions_chart: Chart
    engagement_chart: Chart

    @property
    def empty(self) -> bool:
        return not any(m.sessions for m in self.months)


def month_starts(today: date, count: int = MONTHS) -> list[date]:
    """The first days of the last ``count`` months (this one included) and the next one."""
    index = today.year * 12 + today.month - 1 - (count - 1)
    return [date((index + i) // 12, (index + i) % 12 + 1, 1) for i in range(count + 1)]


def _utc(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(UTC)


async def monthly(
    *, user: User, participant: Participant, today: date, tz: tzinfo, rtl: bool
) -> list[Series]:
    """Sessions attended and mean engagement per pillar for the last six months.

    Args:
        user: the reader; participant: the participant (the caller checked access).
        today: the reader's local date; tz: the reader's time zone.
        rtl: draw the charts for a right-to-left page.
    """
    starts = month_starts(today)
    bounds = [_utc(day, tz) for day in starts]
    figures: dict[str, Any] = {}
    for i in range(MONTHS):
        within = Q(
            attendance=Attendance.ATTENDED,
            occurred_at__gte=bounds[i],
            occurred_at__lt=bounds[i + 1],
        )
        figures[f"s{i}"] = Count("id", _filter=within)
        figures[f"e{i}"] = Avg("engagement", _filter=within)
    rows = (
        await policy.caseload_logs(user)
        .filter(
            participant_id=participant.id,
            occurred_at__gte=bounds[0],
            occurred_at__lt=bounds[-1],
        )
        .group_by("pillar")
        .annotate(**figures)
        .values("pillar", *figures)
    )
    by_pillar = {Pillar(str(row["pillar"])): row for row in rows}
    series = []
    for pillar in Pillar:
        row = by_pillar.get(pillar, {})
        months = [
            Month(
                starts[i],
                int(row.get(f"s{i}") or 0),
                round(float(row[f"e{i}"]), 1) if row.get(f"e{i}") is not None else None,
            )
            for i in range(MONTHS)
        ]
        counts: list[float | None] = [float(m.sessions) for m in months]
        most = max([4.0, *(c or 0.0 for c in counts)])
        series.append(
            Series(
                pillar,
                months,
                bar_chart(counts, maximum=most, rtl=rtl),
                bar_chart([m.engagement for m in months], maximum=ENGAGEMENT_MAX, rtl=rtl),
            )
        )
    return series
