"""Routes of the programme view: the coordinator's page and its CSV export."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.access import actor_of, current_user
from server.enums import Attendance, Gender, Pillar, Role
from server.errors import AppError
from server.i18n import N_
from server.indicators.views import AGE_BANDS
from server.participants.labels import GENDERS
from server.programme import export, services
from server.programme.period import Quarter, last_ended, read_quarter, recent
from server.programme.tables import Table, published_tables
from server.reviews.charts import Chart, bar_chart
from server.sessions.labels import ATTENDANCE, PILLARS
from server.web import now, query
from server.web.templating import render

CSV = "text/csv; charset=utf-8"


class BadPeriod(AppError):
    status = 400
    code = "bad_period"

    def __init__(self) -> None:
        super().__init__(
            N_(
                "The programme's figures are given only for whole quarters that have"
                " ended. Please choose one of the quarters offered."
            )
        )


def _quarter(request: Request) -> Quarter:
    """The quarter asked for (the latest ended one if none), or BadPeriod.

    Any other way of naming a period (dates, a month) is refused before
    anything is counted: see server/programme/period.py.
    """
    values = query.params(request)
    if set(values) - {"quarter"}:
        raise BadPeriod()
    raw = values.get("quarter", "")
    if not raw:
        return last_ended(now(request))
    found = read_quarter(raw, now(request))
    if found is None:
        raise BadPeriod()
    return found


COLUMN_LABELS = {
    **{g.value: label for g, label in GENDERS.items()},
    **{b.value: label for b, label in AGE_BANDS.items()},
    **{p.value: label for p, label in PILLARS.items()},
    **{a.value: label for a, label in ATTENDANCE.items()},
    services.ALL: N_("Total"),
}
CAPTIONS = {
    "supported_gender": N_("Participants supported, by gender"),
    "supported_band": N_("Participants supported, by age"),
    "sessions_pillar": N_("Sessions, by pillar"),
    "sessions_attendance": N_("Sessions, by attendance"),
    "every_pillar": N_("Participants who attended a session under each of the four pillars"),
    "reviews": N_("Progress reviews written"),
}


CHARTED = ("supported_gender", "sessions_pillar")


def _charts(tables: list[Table]) -> list[tuple[Table, Chart]]:
    """Bars of the programme's row of some tables; a suppressed cell has none."""
    rtl = i18n.current().direction == "rtl"
    charts = []
    for table in tables:
        if table.id in CHARTED:
            _, cells = table.rows[-1]  # the programme as a whole
            values: list[float | None] = [c.value for c in cells[:-1]]
            charts.append((table, bar_chart(values, maximum=0, rtl=rtl)))
    return charts


@access.allow(Role.COORDINATOR)
async def programme_page(request: Request) -> Response:
    quarter = _quarter(request)
    user = current_user(request)
    figures = await services.figures_for(
        user=user, quarter=quarter, actor=actor_of(request), now=now(request)
    )
    tables = published_tables(figures)
    context = {
        "quarter": quarter,
        "quarters": recent(now(request)),
        "tables": tables,
        "charts": _charts(tables),
        "threshold": figures.threshold,
        "column_labels": COLUMN_LABELS,
        "captions": CAPTIONS,
        "Gender": Gender,
        "Pillar": Pillar,
        "Attendance": Attendance,
    }
    return render(request, "programme/index.html", context)


@access.allow(Role.COORDINATOR)
async def programme_csv(request: Request) -> Response:
    quarter = _quarter(request)
    body = await export.programme_csv(
        user=current_user(request), quarter=quarter, actor=actor_of(request), now=now(request)
    )
    name = f"programme-{quarter.key}.csv"
    return Response(
        body, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


routes: list[BaseRoute] = [
    Route("/programme", programme_page, name="programme"),
    Route("/programme/export.csv", programme_csv, name="programme_csv"),
]
