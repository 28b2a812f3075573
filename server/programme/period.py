"""The programme's reporting periods: calendar quarters that have ended.

Only fixed, disjoint periods are published. Two overlapping periods (the
1st to the 30th and the 2nd to the 30th) would differ by one day's few
people, whatever each one's suppression; months together with quarters
or years would let a suppressed month be had as the quarter minus the
other two. So there is one grain, the quarter, and no period of any other
shape is computed at all (docs/programme.md).

A quarter is published once it has ended: while it runs its figures grow
day by day, and two days' pages would differ by one day's people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.indicators.period import Period

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
FIRST_YEAR = 2000  # nothing was recorded before the programme began


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1 to 4

    @property
    def first(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last(self) -> date:
        if self.number == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.number + 1, 1) - timedelta(days=1)

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.number}"

    def previous(self) -> Quarter:
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    def period(self, time_zone: str) -> Period:
        """The quarter in one organisation's own time zone."""
        return Period(self.first, self.last, ZoneInfo(time_zone))


def quarter_of(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def last_ended(now: datetime) -> Quarter:
    """The latest quarter over everywhere on Earth (UTC-12): ended in every
    organisation's own time zone."""
    earliest_local_day = (now - timedelta(hours=12)).date()
    return quarter_of(earliest_local_day).previous()


def recent(now: datetime, count: int = 8) -> list[Quarter]:
    """The ``count`` latest published quarters, newest first (the choices offered)."""
    quarters = [last_ended(now)]
    while len(quarters) < count:
        quarters.append(quarters[-1].previous())
    return quarters


def read_quarter(raw: str, now: datetime) -> Quarter | None:
    """``2026-Q2`` → that quarter; None for anything else, or one not ended yet."""
    match = QUARTER.match(raw)
    if match is None:
        return None
    quarter = Quarter(int(match.group(1)), int(match.group(2)))
    if quarter.year < FIRST_YEAR or quarter > last_ended(now):
        return None
    return quarter
