"""Routes of the reviews domain: the officer's dashboard, progress, reviews."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.numbers import format_percent
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.access import actor_of, current_user
from server.enums import Pillar, Role
from server.participants import services as participants
from server.participants.forms import Problems, values_of
from server.participants.models import Participant
from server.reviews import forms, services, sql
from server.reviews.caseload import NO_CONTACT_DAYS, Sort
from server.reviews.dashboard import RECENT_DAYS, WINDOW_DAYS, Filters, dashboard
from server.reviews.labels import FLAG_SHORT, FLAGS, STATUSES, Flag
from server.reviews.progress import monthly
from server.sessions.labels import PILLARS
from server.web import now, query
from server.web.templating import render

LABELS = {
    "pillars": PILLARS,
    "statuses": STATUSES,
    "flags": FLAGS,
    "flag_short": FLAG_SHORT,
    "no_contact_days": NO_CONTACT_DAYS,
    "missed_in_recent": sql.MISSED_IN_RECENT,
    "recent_logs": sql.RECENT_LOGS,
    "recent_days": RECENT_DAYS,
    "window_days": WINDOW_DAYS,
}


def percent(value: float) -> str:
    """A share as a percentage in the reader's language (Babel)."""
    return str(format_percent(value, locale=i18n.current().locale))


def _today(request: Request) -> date:
    return now(request).astimezone(i18n.current().tz).date()


def _filters(request: Request) -> Filters:
    given = query.params(request)
    page = given.get("page", "1")
    return Filters(
        sort=Sort(given["sort"]) if given.get("sort") in set(Sort) else Sort.CODE,
        flag=Flag(given["flag"]) if given.get("flag") in set(Flag) else None,
        pillar=Pillar(given["pillar"]) if given.get("pillar") in set(Pillar) else None,
        page=int(page) if page.isdigit() else 1,
    )


@access.allow(Role.OFFICER)
async def dashboard_page(request: Request) -> Response:
    page = await dashboard(
        officer=current_user(request),
        filters=_filters(request),
        now=now(request),
        today=_today(request),
        actor=actor_of(request),
    )
    return render(request, "dashboard/index.html", {"page": page, "percent": percent, **LABELS})


@access.allow(Role.OFFICER)
async def progress_page(request: Request) -> Response:
    user = current_user(request)
    participant = await participants.read(
        user=user, participant_id=request.path_params["id"], actor=actor_of(request)
    )
    t = i18n.current()
    context = {
        "participant": participant,
        "series": await monthly(
            user=user,
            participant=participant,
            today=_today(request),
            tz=t.tz,
            rtl=t.direction == "rtl",
        ),
        "reviews": await services.history(user, participant),
        "created": "saved" in query.params(request),
        **LABELS,
    }
    return render(request, "reviews/progress.html", context)


def _form(
    request: Request, participant: Participant, values: dict[str, str], problems: Problems
) -> Response:
    context: dict[str, Any] = {
        "participant": participant,
        "values": values,
        "problems": problems,
        "today": _today(request),
        **LABELS,
    }
    return render(request, "reviews/form.html", context, status=422 if problems else 200)


@access.allow(Role.OFFICER)
async def review_new(request: Request) -> Response:
    user = current_user(request)
    participant = await participants.responsible_for(
        user=user, participant_id=request.path_params["id"], actor=actor_of(request)
    )
    if request.method == "GET":
        return _form(request, participant, dict.fromkeys(forms.FIELDS, ""), {})
    values = values_of(await request.form(), forms.FIELDS)
    data, problems = forms.check_review(values, today=_today(request))
    if data is None:
        return _form(request, participant, values, problems)
    await services.create(
        officer=user,
        participant=participant,
        data=data,
        today=_today(request),
        actor=actor_of(request),
    )
    return RedirectResponse(f"/participants/{participant.id}/progress?saved=1", status_code=303)


routes: list[BaseRoute] = [
    Route("/dashboard", dashboard_page, name="dashboard"),
    Route("/participants/{id}/progress", progress_page, name="participant_progress"),
    Route(
        "/participants/{id}/reviews/new",
        review_new,
        methods=["GET", "POST"],
        name="review_new",
    ),
]
