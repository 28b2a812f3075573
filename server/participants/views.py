"""Routes of the participants domain: the officer's list and records, the plan."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.access import actor_of, current_user
from server.accounts.models import User
from server.appointments.services import upcoming_for_participant
from server.assessments.services import section as needs_section
from server.enums import Role
from server.participants import forms, plan, services
from server.participants.labels import GENDERS, GOAL_STATUSES, PILLARS, appointment_status
from server.participants.models import Participant
from server.reviews.services import section as progress_section
from server.sessions.queries import timeline
from server.web import now, page_number, query, whole_number
from server.web.templating import render

POST = ["POST"]


def _today(request: Request) -> date:
    return now(request).astimezone(i18n.current().tz).date()


@access.allow(Role.OFFICER)
async def participant_list(request: Request) -> Response:
    raw = query.params(request).get("page", "1")
    page = await services.list_page(
        officer=current_user(request),
        page=page_number(raw),
        actor=actor_of(request),
    )
    return render(request, "participants/list.html", {"page": page, "genders": GENDERS})


async def _form_page(
    request: Request,
    user: User,
    values: dict[str, str],
    workers: set[int],
    problems: forms.Problems,
    participant: Participant | None = None,
) -> Response:
    return render(
        request,
        "participants/form.html",
        {
            "participant": participant,
            "values": values,
            "chosen_workers": workers,
            "problems": problems,
            "workers": await services.organisation_workers(user=user),
            "genders": GENDERS,
            "consents": await services.consent_history(user, participant) if participant else [],
        },
        status=422 if problems else 200,
    )


async def _checked(
    request: Request, user: User
) -> tuple[forms.ParticipantInput | None, dict[str, str], list[str], forms.Problems]:
    form = await request.form()
    values = forms.values_of(form, forms.PARTICIPANT_FIELDS)
    chosen = [str(w) for w in form.getlist("workers")]
    allowed = {w.id for w in await services.organisation_workers(user=user)}
    data, problems = forms.check_participant(
        values, chosen, today=_today(request), allowed_workers=allowed
    )
    return data, values, chosen, problems


def _chosen_ids(chosen: list[str]) -> set[int]:
    # Ids past a database INTEGER are no one (and would overflow in the query).
    ids = (whole_number(w, least=1, most=2**31 - 1) for w in chosen)
    return {i for i in ids if i is not None}


@access.allow(Role.OFFICER)
async def participant_new(request: Request) -> Response:
    user = current_user(request)
    if request.method == "GET":
        values = dict.fromkeys(forms.PARTICIPANT_FIELDS, "")
        values["language"] = i18n.current().language
        return await _form_page(request, user, values, set(), {})
    data, values, chosen, problems = await _checked(request, user)
    if data is None:
        return await _form_page(request, user, values, _chosen_ids(chosen), problems)
    participant = await services.create(
        officer=user, data=data, today=_today(request), actor=actor_of(request)
    )
    return RedirectResponse(f"/participants/{participant.id}?saved=1", status_code=303)


@access.allow(Role.OFFICER)
async def participant_edit(request: Request) -> Response:
    user = current_user(request)
    participant = await services.responsible_for(
        user=user, participant_id=request.path_params["id"], actor=actor_of(request)
    )
    if request.method == "GET":
        await services.read(user=user, participant_id=participant.id, actor=actor_of(request))
        return await _form_page(
            request,
            user,
            _stored_values(participant),
            await services.assigned_worker_ids(participant),
            {},
            participant,
        )
    data, values, chosen, problems = await _checked(request, user)
    if data is None:
        return await _form_page(request, user, values, _chosen_ids(chosen), problems, participant)
    await services.update(
        officer=user,
        participant=participant,
        data=data,
        today=_today(request),
        actor=actor_of(request),
    )
    return RedirectResponse(f"/participants/{participant.id}?saved=1", status_code=303)


def _stored_values(participant: Participant) -> dict[str, str]:
    def iso(value: date | None) -> str:
        return value.isoformat() if value else ""

    return {
        "full_name": participant.full_name,
        "gender": participant.gender.value,
        "date_of_birth": iso(participant.date_of_birth),
        "release_date": iso(participant.release_date),
        "language": participant.language,
        "consent_given": "yes" if participant.consent_given else "no",
        "consent_date": iso(participant.consent_date),
    }


async def _page(request: Request, participant_id: Any, status: int = 200, **extra: Any) -> Response:
    user = current_user(request)
    participant = await services.read(
        user=user, participant_id=participant_id, actor=actor_of(request)
    )
    officer = user.role is Role.OFFICER
    context: dict[str, Any] = {
        # A worker's page gets only what a worker may see: the code, the given
        # name and the release date; never the full name or date of birth.
        "card": services.card(participant, full=officer),
        "is_officer": officer,
        "plan": await plan.grouped(user, participant),
        "appointments": await upcoming_for_participant(
            user=user, participant=participant, now=now(request)
        ),
        "workers": await participant.workers.all().order_by("name") if officer else [],
        "consents": await services.consent_history(user, participant),
        "timeline": await timeline(user, participant),
        "pillars": PILLARS,
        "genders": GENDERS,
        "goal_statuses": GOAL_STATUSES,
        "appointment_status": appointment_status,
        "saved": "saved" in query.params(request),
        "goal_values": {},
        "goal_problems": {},
        "edit_values": {},
        "edit_problems": {},
        **await progress_section(user=user, participant=participant),
        **await needs_section(user=user, participant=participant, today=_today(request)),
        **extra,
    }
    return render(request, "participants/view.html", context, status=status)


@access.allow(Role.OFFICER, Role.WORKER)
async def participant_page(request: Request) -> Response:
    return await _page(request, request.path_params["id"])


@access.allow(Role.OFFICER)
async def goal_create(request: Request) -> Response:
    user = current_user(request)
    participant = await services.responsible_for(
        user=user, participant_id=request.path_params["id"], actor=actor_of(request)
    )
    values = forms.values_of(await request.form(), ("pillar", "text"))
    data, problems = forms.check_goal(values, new=True)
    if data is None:
        return await _page(request, participant.id, 422, goal_values=values, goal_problems=problems)
    await plan.add(officer=user, participant=participant, data=data, actor=actor_of(request))
    return RedirectResponse(f"/participants/{participant.id}#plan", status_code=303)


@access.allow(Role.OFFICER)
async def goal_update(request: Request) -> Response:
    goal = await plan.goal_for(
        user=current_user(request), goal_id=request.path_params["id"], actor=actor_of(request)
    )
    values = forms.sent_values(await request.form(), ("status", "text"))
    data, problems = forms.check_goal(values, new=False)
    if data is None:
        key = str(goal.id)
        return await _page(
            request,
            goal.participant.id,
            422,
            edit_values={key: values},
            edit_problems={key: problems},
        )
    await plan.change(goal=goal, data=data, actor=actor_of(request))
    return RedirectResponse(f"/participants/{goal.participant.id}#plan", status_code=303)


routes: list[BaseRoute] = [
    Route("/participants", participant_list, name="participants"),
    # Before /participants/{id}: "new" would otherwise be taken for an id.
    Route("/participants/new", participant_new, methods=["GET", "POST"], name="participant_new"),
    Route("/participants/{id}", participant_page, name="participant"),
    Route("/participants/{id}/edit", participant_edit, methods=["GET", "POST"]),
    Route("/participants/{id}/goals", goal_create, methods=POST, name="goal_create"),
    Route("/goals/{id}", goal_update, methods=POST, name="goal_update"),
]
