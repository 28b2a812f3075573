"""Routes of the installable app: service worker, manifest, offline shell, messages."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from babel.support import NullTranslations
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.errors import NotFound
from server.i18n import N_
from server.pwa import calendar, messages, shell
from server.settings import LANGUAGES
from server.web.templating import render, static_url

NAME = N_("Homeward")
# Discreet: shown by the phone when the app is installed, and to anyone who
# looks at its app list; it names no prison, reintegration or programme.
DESCRIPTION = N_("Appointments and support in your language, even without a network.")
THEME_COLOR = "#0b5d4b"
# Non-personal and fetched again whenever online: the service worker, not the
# HTTP cache, is what keeps them for offline use.
REVALIDATE = "no-cache"
VARY = "Accept-Language, Cookie"
# Headers a 304 repeats from the 200 it stands for (RFC 9110, 15.4.5), so the
# browser's stored copy stays described correctly.
NOT_MODIFIED_KEEPS = ("cache-control", "content-language", "etag", "vary")


@cache
def _catalogues(locales_dir: Path) -> dict[str, NullTranslations]:
    return i18n.load_catalogues(locales_dir)


def _language(request: Request) -> i18n.Translator:
    """The request's translator, or the one ``?lang=`` names.

    The service worker precaches one copy per language, so the language must
    be in the URL; without it the usual negotiation decides.
    """
    negotiated = i18n.current()
    asked = request.query_params.get("lang", "")
    if asked not in LANGUAGES or asked == negotiated.language:
        return negotiated
    catalogues = _catalogues(request.app.state.settings.locales_dir)
    translator = i18n.Translator(asked, catalogues[asked], negotiated.time_zone)
    i18n.activate(translator)
    return translator


def _entity_tag(body: bytes) -> str:
    # Weak: GZipMiddleware may send these bytes compressed or not, and a
    # strong tag would have to differ between the two.
    return f'W/"{hashlib.sha256(body).hexdigest()[:16]}"'


def _matches(if_none_match: str, tag: str) -> bool:
    """Weak comparison (RFC 9110, 13.1.2): only the opaque part counts."""
    if if_none_match.strip() == "*":
        return True
    opaque = tag.removeprefix("W/")
    return any(c.strip().removeprefix("W/") == opaque for c in if_none_match.split(","))


def _conditional(request: Request, response: Response) -> Response:
    """Tag the response with its content; a 304 when the browser has these bytes.

    These routes are sent with ``no-cache``: the browser asks again on each
    use, and the service worker's install revalidates what the page just
    fetched (pwa/sw.js). With a validator the answer is a 304 of headers only
    instead of the whole body again.
    """
    tag = _entity_tag(bytes(response.body))
    response.headers["ETag"] = tag
    if not _matches(request.headers.get("if-none-match", ""), tag):
        return response
    kept = {k: v for k, v in response.headers.items() if k in NOT_MODIFIED_KEEPS}
    return Response(status_code=304, headers=kept)


@access.public
async def service_worker(request: Request) -> Response:
    source = shell.script(shell.current(), request.app.state.settings.default_language)
    headers = {"Cache-Control": REVALIDATE, "Service-Worker-Allowed": "/"}
    return _conditional(request, Response(source, media_type="text/javascript", headers=headers))


def _icon(name: str, size: int, purpose: str = "any") -> dict[str, str]:
    return {
        "src": static_url(name),
        "sizes": f"{size}x{size}",
        "type": "image/png",
        "purpose": purpose,
    }


@access.public
async def manifest(request: Request) -> Response:
    t = _language(request)
    body = {
        "id": "/",
        "name": t.gettext(NAME),
        "short_name": t.gettext(NAME),
        "description": t.gettext(DESCRIPTION),
        "lang": t.language,
        "dir": t.direction,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": "#ffffff",
        "icons": [
            *(_icon(name, size, purpose) for name, (size, purpose) in shell.PNG_ICONS.items()),
            {"src": static_url("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    headers = {"Cache-Control": REVALIDATE, "Content-Language": t.language, "Vary": VARY}
    response = JSONResponse(body, media_type="application/manifest+json", headers=headers)
    return _conditional(request, response)


@access.public
async def app_shell(request: Request) -> Response:
    _language(request)
    # The shell is stored on the phone and shown to whoever holds it next, so
    # it is rendered as for nobody: no user, no CSRF token of this session.
    state = {**request.scope.get("state", {}), "user": None, "csrf_token": ""}
    anonymous = Request({**request.scope, "state": state}, request.receive)
    response = render(anonymous, "pwa/shell.html")
    response.headers["Cache-Control"] = REVALIDATE
    return _conditional(request, response)


@access.public
async def client_messages(request: Request) -> Response:
    language = request.path_params["lang"]
    if language not in LANGUAGES:
        raise NotFound()
    found = messages.client_messages(request.app.state.settings.locales_dir, language)
    headers = {"Cache-Control": REVALIDATE, "Content-Language": language}
    return _conditional(request, JSONResponse(found, headers=headers))


@access.public
async def client_calendar(request: Request) -> Response:
    """Month and day names and date patterns, for offline screens on phones
    whose browser has no date data for the language (server/pwa/calendar.py)."""
    language = request.path_params["lang"]
    if language not in LANGUAGES:
        raise NotFound()
    headers = {"Cache-Control": REVALIDATE, "Content-Language": language}
    return _conditional(request, JSONResponse(calendar.calendars(language), headers=headers))


routes: list[BaseRoute] = [
    Route("/sw.js", service_worker, name="service_worker"),
    Route("/manifest.webmanifest", manifest, name="manifest"),
    Route("/app/shell", app_shell, name="app_shell"),
    Route("/i18n/{lang}.json", client_messages, name="client_messages"),
    Route("/i18n/{lang}/calendar.json", client_calendar, name="client_calendar"),
]
