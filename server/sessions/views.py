"""The worker's day: home, logging a session, correcting it; the officer's review."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n, policy
from server.access import actor_of, current_user
from server.enums import Pillar, Role
from server.errors import NotFound
from server.forms import form_context, get_form, latest_form
from server.forms.validator import validate
from server.participants.models import Participant
from server.sessions import display, queries, services
from server.sessions.labels import PILLARS, attendance_of
from server.web import now, query, whole_number
from server.web.templating import render

STAFF = (Role.WORKER, Role.OFFICER)


async def worker_home(request: Request) -> Response:
    """Today's and the coming week's appointments, and the caseload."""
    user = current_user(request)
    t = i18n.current()
    today = datetime.combine(now(request).astimezone(t.tz).date(), time(), t.tz)
    caseload = await queries.caseload(user)
    week_end = today + timedelta(days=8)
    appointments = await queries.appointments_between(user, today, week_end, caseload)
    return render(
        request,
        "sessions/home.html",
        {
            "today": [a for a in appointments if a.starts_at < today + timedelta(days=1)],
            "week": [a for a in appointments if a.starts_at >= today + timedelta(days=1)],
            "caseload": caseload,
            "pillars": PILLARS,
        },
    )


async def _participant(request: Request) -> Participant:
    """The participant a session is being logged for (never an erased one)."""
    return await policy.loggable_participant(
        current_user(request), request.path_params["id"], actor_of(request)
    )


async def _appointment(request: Request, participant: Participant) -> str:
    """The appointment the link says this session fulfils ("" for none).

    Checked before the form is even shown: only an open appointment of this
    participant that the user takes part in, so a link cannot carry anything
    else into the form's address.
    """
    wanted = query.params(request).get("appointment", "")
    if not wanted:
        return ""
    found = await policy.fulfillable_appointment(
        current_user(request), participant.id, wanted, actor_of(request)
    )
    return str(found.id)


def _pillar(request: Request) -> Pillar:
    try:
        return Pillar(request.path_params["pillar"])
    except ValueError:
        raise NotFound() from None


@access.allow(*STAFF)
async def pick_participant(request: Request) -> Response:
    return render(
        request,
        "sessions/pick.html",
        {
            "caseload": await queries.caseload(current_user(request)),
        },
    )


@access.allow(*STAFF)
async def pick_type(request: Request) -> Response:
    participant = await _participant(request)
    # A partner's worker is offered only the referred pillars (docs/referrals.md).
    allowed = await policy.loggable_pillars(current_user(request), participant)
    open_appointments = (
        await policy.fulfillable_appointments(current_user(request), participant.id)
        .filter(starts_at__lt=now(request) + timedelta(days=1))
        .order_by("-starts_at")
        .limit(5)
    )
    return render(
        request,
        "sessions/pick_type.html",
        {
            "participant": participant,
            "pillars": PILLARS,
            "offered": {k: v for k, v in PILLARS.items() if k in allowed},
            "appointments": open_appointments,
        },
    )


def _form_page(
    request: Request, participant: Participant, pillar: Pillar, appointment: str, **extra: object
) -> Response:
    form = extra.pop("form", None) or latest_form(pillar)
    log_id = extra.pop("log_id", None) or uuid.uuid4()
    action = query.link(
        f"/log/{participant.id}/{pillar.value}", log=str(log_id), appointment=appointment
    )
    context = form_context(
        form,  # type: ignore[arg-type]
        result=extra.pop("result", None),  # type: ignore[arg-type]
        participants=[(str(participant.id), participant.code)],
        user_name=current_user(request).name,
        action=action,
        gender=participant.gender,
    )
    if not context["values"].get("participant"):
        context["values"]["participant"] = str(participant.id)
    return render(request, "forms/session.html", context, status=int(extra.pop("status", 200)))  # type: ignore[call-overload]


@access.allow(*STAFF)
async def log_form(request: Request) -> Response:
    participant = await _participant(request)
    pillar = _pillar(request)
    if pillar not in await policy.loggable_pillars(current_user(request), participant):
        raise services.NotReferred()
    return _form_page(request, participant, pillar, await _appointment(request, participant))


@access.allow(*STAFF)
async def log_submit(request: Request) -> Response:
    user = current_user(request)
    participant = await _participant(request)
    pillar = _pillar(request)
    appointment = await _appointment(request, participant)
    data = await request.form()
    try:
        version = int(str(data.get("form_version", "")))
        log_id = uuid.UUID(query.params(request).get("log", ""))
    except ValueError:
        raise NotFound() from None
    form = get_form(pillar, version)
    result = validate(
        form, data, now=now(request), tz=i18n.current().tz, participant_ids=[str(participant.id)]
    )
    if not result.ok:
        return _form_page(
            request,
            participant,
            pillar,
            appointment,
            form=form,
            log_id=log_id,
            result=result,
            status=422,
        )
    appointment_id = uuid.UUID(appointment) if appointment else None
    await services.record_log(
        author=user,
        log_id=log_id,
        result=result,
        appointment_id=appointment_id,
        now=now(request),
        actor=actor_of(request),
    )
    return RedirectResponse(f"/sessions/{log_id}?saved=1", status_code=303)


@access.allow(*STAFF)
async def log_view(request: Request) -> Response:
    user = current_user(request)
    log = await services.visible_log(
        user=user, log_id=request.path_params["id"], actor=actor_of(request)
    )
    t = i18n.current()
    revisions = await policy.revisions_for(user).filter(session_log_id=log.id).order_by("-revision")
    return render(
        request,
        "sessions/view.html",
        {
            "log": log,
            "answers": display.answers(log, t, log.participant.code, log.participant.gender),
            "pillar_label": PILLARS[log.pillar],
            "attendance_label": attendance_of(log.attendance, log.participant.gender),
            "revisions": revisions,
            "can_edit": policy.may_correct(user, log) and log.reviewed_at is None,
            "can_review": policy.may_review(user, log) and log.reviewed_at is None,
            "saved": "saved" in query.params(request),
        },
    )


@access.allow(*STAFF)
async def log_edit(request: Request) -> Response:
    user = current_user(request)
    log = await services.editable_log(
        user=user, log_id=request.path_params["id"], actor=actor_of(request)
    )
    form = get_form(log.pillar, log.form_version)
    if request.method == "POST":
        data = await request.form()
        # A version that is not a whole number is no form we know: 404 (as below).
        version = whole_number(data.get("form_version", log.form_version), least=1, most=10_000)
        if version is None:
            raise NotFound()
        form = get_form(log.pillar, version)
        result = validate(
            form,
            data,
            now=now(request),
            tz=i18n.current().tz,
            participant_ids=[str(log.participant.id)],
        )
        if result.ok:
            await services.correct_log(
                editor=user, log=log, result=result, now=now(request), actor=actor_of(request)
            )
            return RedirectResponse(f"/sessions/{log.id}?saved=1", status_code=303)
        status = 422
    else:
        result = None
        status = 200
    context = form_context(
        form,
        result=result,
        participants=[(str(log.participant.id), log.participant.code)],
        user_name=user.name,
        action=f"/sessions/{log.id}/edit",
        gender=log.participant.gender,
    )
    if result is None:
        context["values"] = {
            key: value if isinstance(value, list) else ("" if value is None else str(value))
            for key, value in display.stored_values(log, i18n.current()).items()
        }
    return render(request, "forms/session.html", context, status=status)


@access.allow(Role.OFFICER)
async def log_review(request: Request) -> Response:
    form = await request.form()
    log = await services.review_log(
        officer=current_user(request),
        log_id=request.path_params["id"],
        comment=str(form.get("comment", "")),
        now=now(request),
        actor=actor_of(request),
    )
    return RedirectResponse(f"/sessions/{log.id}", status_code=303)


@access.allow(Role.OFFICER)
async def review_queue(request: Request) -> Response:
    logs = await services.review_queue(officer=current_user(request))
    return render(request, "sessions/queue.html", {"logs": logs, "pillars": PILLARS})


routes: list[BaseRoute] = [
    Route("/log", pick_participant, name="log_pick"),
    Route("/log/{id}", pick_type, name="log_type"),
    Route("/log/{id}/{pillar}", log_form, name="log_form"),
    Route("/log/{id}/{pillar}", log_submit, methods=["POST"]),
    Route("/sessions/{id}", log_view, name="session_log"),
    Route("/sessions/{id}/edit", log_edit, methods=["GET", "POST"]),
    Route("/sessions/{id}/review", log_review, methods=["POST"]),
    Route("/review", review_queue, name="review_queue"),
]
