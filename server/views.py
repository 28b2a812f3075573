"""Pages that belong to no single domain: home, language switch, health."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from server import access, db
from server.access import actor_of
from server.accounts import services
from server.accounts.models import User
from server.audit.models import AuditEvent
from server.enums import Role
from server.errors import Invalid
from server.i18n import N_
from server.settings import LANGUAGES
from server.web import now
from server.web.locale_middleware import remember_language
from server.web.templating import render


@access.public
async def home(request: Request) -> Response:
    user: User | None = request.state.user
    if user is None:
        return render(request, "home.html", {"signed_out": "signed_out" in request.query_params})
    if user.role is Role.WORKER:
        from server.sessions.views import worker_home

        return await worker_home(request)
    if user.role is Role.FAMILY:
        from server.family.views import family_home

        return await family_home(request)
    if user.role is Role.COORDINATOR:
        from server.programme.views import programme_page

        return await programme_page(request)
    recoveries: list[AuditEvent] = []
    if user.role in (Role.OFFICER, Role.ADMIN):
        # A lost phone replaced by a recovery link is shown to the officers of
        # the organisation, so an unexpected one is noticed.
        recoveries = (
            await AuditEvent.filter(
                organisation_id=user.organisation_id,
                action="invitation.recovery",
                at__gte=now(request) - timedelta(days=30),
            )
            .order_by("-id")
            .limit(10)
        )
    return render(request, "dashboard.html", {"recoveries": recoveries})


@access.public
async def set_language(request: Request) -> Response:
    form = await request.form()
    language = str(form.get("language", ""))
    if language not in LANGUAGES:
        raise Invalid(N_("Please choose one of the languages offered."))
    if request.state.user is not None:
        # A signed-in user's choice follows them to every device.
        await services.set_language(
            user=request.state.user, language=language, actor=actor_of(request)
        )
    target = str(form.get("next", "/"))
    # Only local paths: never an open redirect.
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    if target.startswith("/enrol/"):
        # The enrolment page speaks its invitation's language unless the
        # person asks for another one there.
        target = f"{target.split('?')[0]}?lang={language}"
    response = RedirectResponse(target, status_code=303)
    remember_language(response, request.app.state.settings, language)
    return response


@access.public
async def healthz(request: Request) -> Response:
    ok = await db.ping()
    return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)
