"""Pages that belong to no single domain: home, language switch, health."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from server import db, i18n
from server.errors import Invalid
from server.i18n import N_
from server.settings import LANGUAGES
from server.templating import render


async def home(request: Request) -> Response:
    return render(request, "home.html")


async def set_language(request: Request) -> Response:
    form = await request.form()
    language = str(form.get("language", ""))
    if language not in LANGUAGES:
        raise Invalid(N_("Please choose one of the languages offered."))
    target = str(form.get("next", "/"))
    # Only local paths: never an open redirect.
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = RedirectResponse(target, status_code=303)
    secure = request.app.state.settings.secure
    response.set_cookie(
        i18n.LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return response


async def healthz(request: Request) -> Response:
    ok = await db.ping()
    return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)
