"""The admin's organisation settings page."""

from __future__ import annotations

from babel import Locale
from babel.dates import get_timezone_location
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.access import actor_of, current_user
from server.enums import Role
from server.orgs import services
from server.participants.forms import Problems, values_of
from server.web.templating import render


def zone_choices() -> list[tuple[str, str]]:
    """Each offered time zone named in the reader's language: "Almaty (Kazakhstan)"."""
    translator = i18n.current()
    locale: Locale = translator.locale
    choices = []
    for country, zones in services.country_zones().items():
        territory = locale.territories.get(country.value, country.value)
        for zone in zones:
            city = get_timezone_location(zone, locale=locale, return_city=True)
            choices.append(
                (zone, i18n.gettext("%(city)s (%(country)s)", city=city, country=territory))
            )
    choices.append(("UTC", i18n.gettext("Coordinated Universal Time (UTC)")))
    return choices


def _page(request: Request, values: dict[str, str], problems: Problems) -> Response:
    return render(
        request,
        "orgs/settings.html",
        {
            "values": values,
            "problems": problems,
            "zones": zone_choices(),
            "saved": "saved" in request.query_params,
        },
        status=422 if problems else 200,
    )


@access.allow(Role.ADMIN)
async def settings_page(request: Request) -> Response:
    admin = current_user(request)
    if request.method == "GET":
        organisation = await services.own(admin=admin, actor=actor_of(request))
        return _page(request, services.values_of(organisation), {})
    values = values_of(await request.form(), services.FIELDS)
    data, problems = services.check_settings(values)
    if data is None:
        return _page(request, values, problems)
    await services.update(admin=admin, data=data, actor=actor_of(request))
    return RedirectResponse("/admin/organisation?saved=1", status_code=303)


routes: list[BaseRoute] = [
    Route(
        "/admin/organisation",
        settings_page,
        methods=["GET", "POST"],
        name="organisation_settings",
    ),
]
