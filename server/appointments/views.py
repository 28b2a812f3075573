"""Routes of the appointments domain: schedule, see, move, cancel."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.access import actor_of, current_user
from server.accounts.models import User
from server.appointments import forms, services
from server.appointments.models import Appointment
from server.enums import Role
from server.participants import services as participants
from server.participants.forms import Problems, values_of
from server.participants.labels import FAMILY_RESPONSES, PILLARS, appointment_status
from server.participants.models import Participant
from server.web import query, whole_number
from server.web.templating import render

GET_POST = ["GET", "POST"]


async def _form_page(
    request: Request,
    participant: Participant,
    values: dict[str, str],
    problems: Problems,
    appointment: Appointment | None = None,
) -> Response:
    return render(
        request,
        "appointments/form.html",
        {
            "participant": participant,
            "appointment": appointment,
            "values": values,
            "problems": problems,
            "workers": await services.participant_workers(participant),
            "pillars": PILLARS,
        },
        status=422 if problems else 200,
    )


async def _checked(
    request: Request, participant: Participant
) -> tuple[forms.AppointmentInput | None, dict[str, str], Problems]:
    form = await request.form()
    # The version the form was made from travels back with it, so a second
    # try after an error still detects a change made in between.
    values = values_of(form, (*forms.FIELDS, "version"))
    allowed = {w.id for w in await services.participant_workers(participant)}
    data, problems = forms.check_appointment(values, tz=i18n.current().tz, allowed_workers=allowed)
    return data, values, problems


@access.allow(Role.OFFICER)
async def appointment_new(request: Request) -> Response:
    user = current_user(request)
    participant = await participants.responsible_for(
        user=user, participant_id=request.path_params["id"], actor=actor_of(request)
    )
    if request.method == "GET":
        values = dict.fromkeys(forms.FIELDS, "")
        values["pillar"] = query.params(request).get("pillar", "")
        return await _form_page(request, participant, values, {})
    data, values, problems = await _checked(request, participant)
    if data is None:
        return await _form_page(request, participant, values, problems)
    await services.schedule(
        officer=user, participant=participant, data=data, actor=actor_of(request)
    )
    return RedirectResponse(f"/participants/{participant.id}?saved=1", status_code=303)


def _stored_values(appointment: Appointment) -> dict[str, str]:
    return {
        "pillar": appointment.pillar.value,
        **forms.local_values(appointment.starts_at, appointment.ends_at, i18n.current().tz),
        "place": appointment.place,
        "coordinates": forms.format_coordinates(appointment.latitude, appointment.longitude),
        "with_user": str(appointment.with_user_id or ""),
        "what_to_bring": appointment.what_to_bring,
        "family_visible": "yes" if appointment.family_visible else "",
        "version": str(appointment.version),
    }


@access.allow(Role.OFFICER)
async def appointment_edit(request: Request) -> Response:
    appointment = await services.managed(
        user=current_user(request),
        appointment_id=request.path_params["id"],
        actor=actor_of(request),
    )
    participant = appointment.participant
    services.must_be_open(appointment)
    if request.method == "GET":
        return await _form_page(request, participant, _stored_values(appointment), {}, appointment)
    data, values, problems = await _checked(request, participant)
    if data is None:
        return await _form_page(request, participant, values, problems, appointment)
    await services.move(
        appointment=appointment,
        data=data,
        version=whole_number(values["version"], least=0, most=2**31 - 1) or 0,
        actor=actor_of(request),
    )
    return RedirectResponse(f"/appointments/{appointment.id}?saved=1", status_code=303)


@access.allow(Role.OFFICER)
async def appointment_cancel(request: Request) -> Response:
    appointment = await services.managed(
        user=current_user(request),
        appointment_id=request.path_params["id"],
        actor=actor_of(request),
    )
    await services.cancel(appointment=appointment, actor=actor_of(request))
    return RedirectResponse(f"/participants/{appointment.participant.id}", status_code=303)


@access.allow(Role.OFFICER, Role.WORKER)
async def appointment_page(request: Request) -> Response:
    user: User = current_user(request)
    appointment = await services.read(
        user=user, appointment_id=request.path_params["id"], actor=actor_of(request)
    )
    officer = user.role is Role.OFFICER
    return render(
        request,
        "appointments/view.html",
        {
            "appointment": appointment,
            "card": participants.card(appointment.participant, full=officer),
            "is_officer": officer,
            "can_change": officer and appointment.status in services.OPEN,
            "pillars": PILLARS,
            "appointment_status": appointment_status,
            "responses": FAMILY_RESPONSES,
            "saved": "saved" in query.params(request),
        },
    )


routes: list[BaseRoute] = [
    Route(
        "/participants/{id}/appointments/new",
        appointment_new,
        methods=GET_POST,
        name="appointment_new",
    ),
    Route("/appointments/{id}", appointment_page, name="appointment"),
    Route("/appointments/{id}/edit", appointment_edit, methods=GET_POST, name="appointment_edit"),
    Route("/appointments/{id}/cancel", appointment_cancel, methods=["POST"]),
]
