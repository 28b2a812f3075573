"""Routes of the indicators domain: the page, and the CSV exports."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.access import actor_of, current_user
from server.enums import Attendance, Gender, Pillar, ReviewStatus, Role
from server.i18n import N_
from server.indicators import export
from server.indicators.period import Period, default_period, read_period
from server.indicators.services import AgeBand, compute
from server.participants.forms import Problem, Problems
from server.participants.labels import GENDERS
from server.reviews.labels import STATUSES
from server.sessions.labels import ATTENDANCE, PILLARS
from server.web import now, query
from server.web.templating import render

CSV = "text/csv; charset=utf-8"
AGE_BANDS = {
    AgeBand.UNDER_18: N_("Under 18"),
    AgeBand.FROM_18: N_("18 to 24"),
    AgeBand.FROM_25: N_("25 to 34"),
    AgeBand.FROM_35: N_("35 to 44"),
    AgeBand.FROM_45: N_("45 and over"),
    AgeBand.UNKNOWN: N_("Date of birth not known"),
}
LABELS = {
    "genders": GENDERS,
    "age_bands": AGE_BANDS,
    "pillars": PILLARS,
    "attendances": ATTENDANCE,
    "statuses": STATUSES,
    "Gender": Gender,
    "Pillar": Pillar,
    "Attendance": Attendance,
    "ReviewStatus": ReviewStatus,
}


def _today(request: Request) -> date:
    return now(request).astimezone(i18n.current().tz).date()


def _iso(period: Period) -> dict[str, str]:
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


def _values(source: Any) -> dict[str, str]:
    return {key: str(source.get(key, "")).strip() for key in ("from", "to")}


async def _page(
    request: Request,
    values: dict[str, str],
    problems: Problems,
    period: Period | None,
    export_problems: Problems | None = None,
) -> Response:
    user = current_user(request)
    shown = period or default_period(_today(request), i18n.current().tz)
    context = {
        "data": await compute(user=user, period=shown, actor=actor_of(request)),
        "values": values if problems else _iso(shown),
        "problems": problems,
        "export_problems": export_problems or {},
        "can_export_logs": user.role is Role.OFFICER,
        **LABELS,
    }
    status = 422 if problems or export_problems else 200
    return render(request, "indicators/index.html", context, status=status)


@access.allow(Role.OFFICER, Role.ADMIN)
async def indicators_page(request: Request) -> Response:
    values = _values(query.params(request))
    period, problems = read_period(values, today=_today(request), tz=i18n.current().tz)
    return await _page(request, values, problems, period)


def _attachment(name: str, period: Period) -> dict[str, str]:
    span = f"{period.first.isoformat()}_{period.last.isoformat()}"
    return {"Content-Disposition": f'attachment; filename="{name}-{span}.csv"'}


@access.allow(Role.OFFICER, Role.ADMIN)
async def indicators_csv(request: Request) -> Response:
    values = _values(query.params(request))
    period, problems = read_period(values, today=_today(request), tz=i18n.current().tz)
    if period is None:
        return await _page(request, values, problems, None)
    body = await export.export_indicators(
        user=current_user(request), period=period, actor=actor_of(request)
    )
    return Response(body, media_type=CSV, headers=_attachment("indicators", period))


@access.allow(Role.OFFICER)
async def session_logs_csv(request: Request) -> Response:
    form = await request.form()
    values = _values(form)
    period, problems = read_period(values, today=_today(request), tz=i18n.current().tz)
    full_names = form.get("full_names") == "1"
    export_problems: Problems = {}
    if full_names and form.get("confirm") != "1":
        export_problems["confirm"] = Problem(
            N_("To export full names, please confirm that you need them.")
        )
    if period is None or export_problems:
        return await _page(request, values, problems, period, export_problems)
    rows = await export.export_session_logs(
        user=current_user(request), period=period, full_names=full_names, actor=actor_of(request)
    )
    return StreamingResponse(rows, media_type=CSV, headers=_attachment("session-logs", period))


routes: list[BaseRoute] = [
    Route("/indicators", indicators_page, name="indicators"),
    Route("/indicators/export.csv", indicators_csv, name="indicators_csv"),
    Route(
        "/indicators/session-logs.csv",
        session_logs_csv,
        methods=["POST"],
        name="session_logs_csv",
    ),
]
