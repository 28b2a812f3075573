"""Routes of the installable app: service worker, manifest, offline shell, messages."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from server import access, i18n
from server.errors import NotFound
from server.i18n import N_
from server.pwa import messages, shell
from server.settings import LANGUAGES
from server.templating import render, static_url

NAME = N_("Homeward")
DESCRIPTION = N_("Homeward helps the people who support people leaving prison, and their families.")
THEME_COLOR = "#0b5d4b"
# Non-personal and fetched again whenever online: the service worker, not the
# HTTP cache, is what keeps them for offline use.
REVALIDATE = "no-cache"
VARY = "Accept-Language, Cookie"


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


@access.public
async def service_worker(request: Request) -> Response:
    source = shell.script(shell.current(), request.app.state.settings.default_language)
    headers = {"Cache-Control": REVALIDATE, "Service-Worker-Allowed": "/"}
    return Response(source, media_type="text/javascript", headers=headers)


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
            _icon("icons/icon-192.png", 192),
            _icon("icons/icon-512.png", 512),
            _icon("icons/maskable-192.png", 192, "maskable"),
            _icon("icons/maskable-512.png", 512, "maskable"),
            {"src": static_url("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    headers = {"Cache-Control": REVALIDATE, "Content-Language": t.language, "Vary": VARY}
    return JSONResponse(body, media_type="application/manifest+json", headers=headers)


@access.public
async def app_shell(request: Request) -> Response:
    _language(request)
    # The shell is stored on the phone and shown to whoever holds it next, so
    # it is rendered as for nobody: no user, no CSRF token of this session.
    state = {**request.scope.get("state", {}), "user": None, "csrf_token": ""}
    anonymous = Request({**request.scope, "state": state}, request.receive)
    response = render(anonymous, "pwa/shell.html")
    response.headers["Cache-Control"] = REVALIDATE
    return response


@access.public
async def client_messages(request: Request) -> Response:
    language = request.path_params["lang"]
    if language not in LANGUAGES:
        raise NotFound()
    found = messages.client_messages(request.app.state.settings.locales_dir, language)
    headers = {"Cache-Control": REVALIDATE, "Content-Language": language}
    return JSONResponse(found, headers=headers)


routes: list[BaseRoute] = [
    Route("/sw.js", service_worker, name="service_worker"),
    Route("/manifest.webmanifest", manifest, name="manifest"),
    Route("/app/shell", app_shell, name="app_shell"),
    Route("/i18n/{lang}.json", client_messages, name="client_messages"),
]
