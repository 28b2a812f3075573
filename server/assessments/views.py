"""Routes of the needs assessment: record one, read the history, take a proposed goal."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.access import actor_of, current_user
from server.assessments import services
from server.assessments.declaration import LATEST, declaration
from server.enums import Role
from server.forms.form import Questions
from server.forms.gender import say
from server.forms.validator import Result
from server.participants import services as participants
from server.participants.models import Participant
from server.sessions.labels import PILLARS
from server.web import now
from server.web.templating import render

POST = ["POST"]


def _today(request: Request) -> date:
    return now(request).astimezone(i18n.current().tz).date()


def _words(participant: Participant) -> dict[str, Any]:
    """``say``: the declaration's messages worded for the participant's gender."""
    return {"say": functools.partial(say, i18n.current(), gender=participant.gender)}


def _form(
    request: Request, participant: Participant, result: Result[Questions] | None = None
) -> Response:
    questions = declaration(LATEST).questions
    values = dict(result.raw) if result else {}
    context: dict[str, Any] = {
        "participant": participant,
        "form": questions,
        "values": values,
        "errors": result.errors if result else {},
        "shown": questions.shown(values),
        "today": _today(request),
        **_words(participant),
    }
    return render(request, "assessments/form.html", context, status=422 if result else 200)


@access.allow(Role.OFFICER)
async def assessment_new(request: Request) -> Response:
    user = current_user(request)
    participant = await participants.responsible_for(
        user=user, participant_id=request.path_params["id"], actor=actor_of(request)
    )
    if request.method == "GET":
        return _form(request, participant)
    result = services.check(await request.form(), now=now(request))
    if not result.ok:
        return _form(request, participant, result)
    await services.create(
        officer=user,
        participant=participant,
        result=result,
        today=_today(request),
        actor=actor_of(request),
    )
    return RedirectResponse(f"/participants/{participant.id}?saved=1#needs", status_code=303)


@access.allow(Role.OFFICER)
async def assessment_history(request: Request) -> Response:
    user = current_user(request)
    participant = await participants.responsible_for(
        user=user, participant_id=request.path_params["id"], actor=actor_of(request)
    )
    context = {
        "participant": participant,
        "assessments": await services.read_history(
            user=user, participant=participant, actor=actor_of(request)
        ),
        "pillars": PILLARS,
        **_words(participant),
    }
    return render(request, "assessments/history.html", context)


@access.allow(Role.OFFICER)
async def goal_accept(request: Request) -> Response:
    user = current_user(request)
    actor = actor_of(request)
    participant = await participants.responsible_for(
        user=user, participant_id=request.path_params["id"], actor=actor
    )
    form = await request.form()
    await services.accept(
        officer=user,
        participant=participant,
        assessment_id=form.get("assessment"),
        pillar=form.get("pillar"),
        translator=i18n.current(),
        actor=actor,
    )
    return RedirectResponse(f"/participants/{participant.id}#needs", status_code=303)


routes: list[BaseRoute] = [
    Route("/participants/{id}/assessments", assessment_history, name="assessments"),
    Route(
        "/participants/{id}/assessments/new",
        assessment_new,
        methods=["GET", "POST"],
        name="assessment_new",
    ),
    Route(
        "/participants/{id}/assessments/goals", goal_accept, methods=POST, name="assessment_goal"
    ),
]
