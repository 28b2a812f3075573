"""The reporting period: two local dates, and the UTC instants they stand for.

A period runs from local midnight at the start of its first day to local
midnight at the end of its last day, in the reader's time zone, so a session
at 23:30 in Almaty on the last day is in it and one at 00:30 the next day
is not. Both boundaries are converted to UTC for the queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from server.i18n import N_
from server.participants.forms import BAD_DATE, Problem, Problems, parse_date

# Long enough for any report to a funder; longer is almost surely a typo.
MAX_DAYS = 5 * 366


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    tz: tzinfo

    @property
    def start(self) -> datetime:
        """The first instant of the period, in UTC."""
        return datetime.combine(self.first, time(), self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period, in UTC (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time(), self.tz).astimezone(UTC)


def default_period(today: date, tz: tzinfo) -> Period:
    """This month so far: what an officer most often reports on."""
    return Period(today.replace(day=1), today, tz)


def read_period(
    values: dict[str, str], *, today: date, tz: tzinfo
) -> tuple[Period | None, Problems]:
    """The period from the form's ``from`` and ``to`` (empty: this month so far).

    Returns:
        The period (None when anything is wrong) and the problems by field.
    """
    fallback = default_period(today, tz)
    problems: Problems = {}
    first = parse_date(values["from"]) if values.get("from") else fallback.first
    last = parse_date(values["to"]) if values.get("to") else fallback.last
    if first is None:
        problems["from"] = BAD_DATE
    if last is None:
        problems["to"] = BAD_DATE
    if first is None or last is None:
        return None, problems
    if last < first:
        problems["to"] = Problem(N_("The end of the period must not be before its start."))
    elif (last - first).days > MAX_DAYS:
        problems["to"] = Problem(N_("The period can be at most five years long."))
    if problems:
        return None, problems
    return Period(first, last, tz), problems
