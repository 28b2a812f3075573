"""The family's screens: their relative's appointments, calendar, and answer."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import access
from server.access import actor_of, current_user
from server.enums import Role
from server.family import ics, services
from server.templating import render
from server.web import now, settings_of

ICS_TYPE = "text/calendar; charset=utf-8"


async def family_home(request: Request) -> Response:
    user = current_user(request)
    upcoming, recent = await services.appointments(user=user, now=now(request))
    return render(
        request,
        "family/home.html",
        {
            "upcoming": upcoming,
            "recent": recent,
            "has_feed": await services.has_feed(user),
            "feed_link": "",
        },
    )


def _host(request: Request) -> str:
    return urlsplit(settings_of(request).origin).hostname or "homeward"


@access.allow(Role.FAMILY)
async def appointment_ics(request: Request) -> Response:
    item = await services.appointment(
        user=current_user(request),
        appointment_id=request.path_params["id"],
        actor=actor_of(request),
    )
    body = ics.calendar([item], origin_host=_host(request))
    return Response(
        body,
        media_type=ICS_TYPE,
        headers={
            "Content-Disposition": 'attachment; filename="appointment.ics"',
        },
    )


@access.allow(Role.FAMILY)
async def respond(request: Request) -> Response:
    form = await request.form()
    await services.respond(
        user=current_user(request),
        appointment_id=request.path_params["id"],
        response=str(form.get("response", "")),
        message=str(form.get("message", "")),
        now=now(request),
        actor=actor_of(request),
    )
    return RedirectResponse("/?answered=1", status_code=303)


@access.allow(Role.FAMILY)
async def open_feed(request: Request) -> Response:
    user = current_user(request)
    token = await services.open_feed(user=user, now=now(request), actor=actor_of(request))
    upcoming, recent = await services.appointments(user=user, now=now(request))
    link = f"{settings_of(request).origin}/calendar/{token}.ics"
    return render(
        request,
        "family/home.html",
        {
            "upcoming": upcoming,
            "recent": recent,
            "has_feed": True,
            "feed_link": link,
        },
    )


@access.allow(Role.FAMILY)
async def revoke_feed(request: Request) -> Response:
    user = current_user(request)
    await services.revoke_feeds(user_id=user.id, now=now(request), actor=actor_of(request))
    return RedirectResponse("/", status_code=303)


@access.public
async def feed(request: Request) -> Response:
    """The subscribed calendar: the token in the URL is the only credential."""
    from server import i18n

    user = await services.feed_owner(
        token=request.path_params["token"], now=now(request), actor=actor_of(request)
    )
    catalogues = request.app.state.catalogues
    i18n.activate(i18n.Translator(user.language, catalogues[user.language], user.time_zone))
    upcoming, recent = await services.appointments(user=user, now=now(request))
    body = ics.calendar([*upcoming, *recent], origin_host=_host(request))
    return Response(body, media_type=ICS_TYPE)


routes: list[BaseRoute] = [
    Route("/family/appointments/{id}/calendar.ics", appointment_ics, name="family_ics"),
    Route("/family/appointments/{id}/response", respond, methods=["POST"]),
    Route("/family/calendar", open_feed, methods=["POST"], name="family_feed_open"),
    Route("/family/calendar/revoke", revoke_feed, methods=["POST"]),
    Route("/calendar/{token}.ics", feed, name="calendar_feed"),
]
