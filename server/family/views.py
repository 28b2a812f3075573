"""The family's screens: their relative's appointments, calendar, and answer."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.access import actor_of, current_user
from server.accounts.models import User
from server.enums import Role
from server.errors import Invalid
from server.family import feeds, ics, qr, services
from server.sessions.labels import PILLARS
from server.web import now, settings_of
from server.web.locale_middleware import country_of
from server.web.templating import render

ICS_TYPE = "text/calendar; charset=utf-8"


async def _page(
    request: Request,
    user: User,
    *,
    failed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The family page; ``failed`` holds one card's refused answer (what was
    chosen and typed, and why it was not taken) so nothing typed is lost."""
    upcoming, recent = await services.appointments(
        user=user, now=now(request), include_cancelled=True
    )
    return render(
        request,
        "family/home.html",
        {
            "upcoming": upcoming,
            "recent": recent,
            "pillars": PILLARS,
            "has_feed": await feeds.has_feed(user),
            "failed": failed or {},
        },
        status=status,
    )


async def family_home(request: Request) -> Response:
    return await _page(request, current_user(request))


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
    user = current_user(request)
    response, message = str(form.get("response", "")), str(form.get("message", ""))
    try:
        await services.respond(
            user=user,
            appointment_id=request.path_params["id"],
            response=response,
            message=message,
            now=now(request),
            actor=actor_of(request),
        )
    except Invalid as refused:
        failed = {
            "id": str(request.path_params["id"]),
            "response": response,
            "message": message[: services.MESSAGE_MAX * 2],
            "reason": refused.translated(),
        }
        return await _page(request, user, failed=failed, status=refused.status)
    return RedirectResponse("/?answered=1", status_code=303)


def _calendar_page(request: Request, link: feeds.FeedLink) -> Response:
    """The calendar link page: the link, a QR code of it, and steps for phones."""
    url = f"{settings_of(request).origin}/calendar/{link.token}.ics" if link.token else ""
    title = i18n.gettext("QR code of your calendar link")
    return render(
        request,
        "family/calendar.html",
        {
            "active": link.active,
            "feed_link": url,
            # iPhones offer to subscribe when a webcal: link is pressed.
            "webcal_link": "webcal:" + url.split(":", 1)[1] if url else "",
            "qr_svg": qr.svg(url, title=title) if url else "",
        },
    )


@access.allow(Role.FAMILY)
async def calendar_link(request: Request) -> Response:
    """Shown again on every visit, to the family member alone (audited)."""
    link = await feeds.current_link(
        user=current_user(request),
        actor=actor_of(request),
        secret=str(settings_of(request).secret_key),
    )
    return _calendar_page(request, link)


@access.allow(Role.FAMILY)
async def open_feed(request: Request) -> Response:
    token = await feeds.open_feed(
        user=current_user(request),
        now=now(request),
        actor=actor_of(request),
        secret=str(settings_of(request).secret_key),
    )
    return _calendar_page(request, feeds.FeedLink(active=True, token=token))


@access.allow(Role.FAMILY)
async def revoke_feed(request: Request) -> Response:
    user = current_user(request)
    await feeds.revoke_feeds(user_id=user.id, now=now(request), actor=actor_of(request))
    return RedirectResponse("/family/calendar", status_code=303)


@access.public
async def feed(request: Request) -> Response:
    """The subscribed calendar: the token in the URL is the only credential."""
    user = await feeds.feed_owner(
        token=request.path_params["token"], now=now(request), actor=actor_of(request)
    )
    catalogues = request.app.state.catalogues
    await user.fetch_related("organisation")  # its country decides how dates are written
    i18n.activate(
        i18n.Translator(
            user.language, catalogues[user.language], user.time_zone, territory=country_of(user)
        )
    )
    upcoming, recent = await services.appointments(
        user=user, now=now(request), include_cancelled=True
    )
    body = ics.calendar([*upcoming, *recent], origin_host=_host(request))
    return Response(body, media_type=ICS_TYPE)


routes: list[BaseRoute] = [
    Route("/family/appointments/{id}/calendar.ics", appointment_ics, name="family_ics"),
    Route("/family/appointments/{id}/response", respond, methods=["POST"]),
    Route("/family/calendar", calendar_link, name="family_calendar"),
    Route("/family/calendar", open_feed, methods=["POST"], name="family_feed_open"),
    Route("/family/calendar/revoke", revoke_feed, methods=["POST"]),
    Route("/calendar/{token}.ics", feed, name="calendar_feed"),
]
