"""CSV exports: the indicators, and the session logs of an officer's participants.

UTF-8 with a byte-order mark, so Excel opens Kazakh, Russian and Arabic
text correctly. Columns carry stable English identifiers, not translated
words, so a funder's spreadsheet reads the same whoever exported it.
Session logs are pseudonymised (participant code) unless full names were
explicitly chosen; notes and form answers are never exported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any

from server import policy
from server.accounts.models import User
from server.audit.services import Actor, record
from server.enums import Attendance, Gender, Pillar, ReviewStatus, Role
from server.indicators.period import Period
from server.indicators.services import AgeBand, Indicators, compute

BOM = "\ufeff"
BATCH = 1_000
INDICATOR_COLUMNS = (
    "organisation",
    "period_start",
    "period_end",
    "indicator",
    "pillar",
    "gender",
    "age_band",
    "attendance",
    "review_status",
    "value",
)
LOG_COLUMNS = (
    "date",
    "participant_code",
    "pillar",
    "attendance",
    "duration_minutes",
    "engagement",
    "follow_up",
    "author_id",
)


# OWASP's CSV-injection rule: a spreadsheet runs a cell that starts with one
# of these as a formula (a name like "=Айгүл" or "@محمد" included).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Any) -> Any:
    """A text cell a spreadsheet shows as text: formula starts get a quote.

    Numbers stay numbers (a negative count is data, not a formula); every
    text cell, whoever typed it, goes through here.
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_lines(rows: Iterable[Iterable[Any]]) -> str:
    """``rows`` as CSV text, every cell through ``neutralise``."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([neutralise(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def indicators_csv(data: Indicators) -> str:
    """Every figure of ``data`` as one CSV row, the breakdown in its own columns."""
    head = [data.organisation.name, data.period.first.isoformat(), data.period.last.isoformat()]

    def row(indicator: str, value: int, **keys: str) -> list[Any]:
        cells = [keys.get(c, "") for c in INDICATOR_COLUMNS[4:-1]]
        return [*head, indicator, *cells, value]

    rows = [row("participants_supported", data.supported_total)]
    for gender in Gender:
        for band in AgeBand:
            count = data.supported.get((gender, band), 0)
            rows.append(row("participants_supported", count, gender=gender, age_band=band))
    for pillar in Pillar:
        for attendance in Attendance:
            count = data.sessions.get((pillar, attendance), 0)
            rows.append(row("sessions", count, pillar=pillar, attendance=attendance))
    rows.append(row("participants_every_pillar", data.every_pillar))
    rows.append(row("progress_reviews", data.reviews))
    for pillar in Pillar:
        for status in ReviewStatus:
            count = data.outcomes.get((pillar, status), 0)
            rows.append(row("progress_reviews", count, pillar=pillar, review_status=status))
    return BOM + csv_lines([INDICATOR_COLUMNS, *rows])


async def session_logs_csv(
    *, officer: User, period: Period, full_names: bool
) -> AsyncIterator[str]:
    """The session logs of the officer's participants in ``period``, oldest first.

    Read in batches of 1,000, so a large export never sits in memory whole.
    Dates are local to the officer (ISO 8601 with the offset).
    """
    columns = [*LOG_COLUMNS, "participant_name"] if full_names else list(LOG_COLUMNS)
    yield BOM + csv_lines([columns])
    query = (
        policy.caseload_logs(officer)
        .filter(occurred_at__gte=period.start, occurred_at__lt=period.end)
        .order_by("occurred_at", "id")
    )
    fields = [
        "occurred_at",
        "participant__code",
        "pillar",
        "attendance",
        "duration_minutes",
        "engagement",
        "follow_up",
        "author_id",
    ]
    if full_names:
        fields.append("participant__full_name")
    offset = 0
    while True:
        batch = await query.offset(offset).limit(BATCH).values_list(*fields)
        if not batch:
            return
        yield csv_lines(_log_row(values, period) for values in batch)
        offset += len(batch)


def _log_row(values: tuple[Any, ...], period: Period) -> list[Any]:
    occurred, code, pillar, attendance, minutes, engagement, follow_up, author, *name = values
    local = occurred.astimezone(period.tz).isoformat(timespec="minutes")
    flag = "yes" if follow_up else "no"
    return [local, code, str(pillar), str(attendance), minutes, engagement, flag, author, *name]


def _period_detail(period: Period) -> dict[str, str]:
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


async def export_indicators(*, user: User, period: Period, actor: Actor) -> str:
    """The indicators CSV of the user's organisation, audited as ``export.indicators``.

    Raises:
        NotFound: the user is neither an officer nor an admin (audited).
    """
    data = await compute(user=user, period=period, actor=actor)
    await record(
        actor=actor,
        action="export.indicators",
        object_type="organisation",
        object_id=str(user.organisation_id),
        detail=_period_detail(period),
    )
    return indicators_csv(data)


async def export_session_logs(
    *, user: User, period: Period, full_names: bool, actor: Actor
) -> AsyncIterator[str]:
    """Audit a session-log export and return its rows (see ``session_logs_csv``).

    Every export is audited as ``export.session_logs``; one with names also
    as ``export.full_names``, so that choice stands out in the audit log.

    Raises:
        NotFound: the user is not an officer (audited).
    """
    if user.role is not Role.OFFICER:
        raise await policy.denied(actor, "export", "session_logs")
    detail = {**_period_detail(period), "full_names": full_names}
    await record(
        actor=actor, action="export.session_logs", object_type="session_log", detail=detail
    )
    if full_names:
        await record(
            actor=actor, action="export.full_names", object_type="session_log", detail=detail
        )
    return session_logs_csv(officer=user, period=period, full_names=full_names)
