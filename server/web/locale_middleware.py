"""Pick each request's language and time zone, before anything renders."""

from __future__ import annotations

import dataclasses

from babel.support import NullTranslations
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import i18n
from server.accounts.cookies import request_cookies
from server.orgs.models import Organisation
from server.settings import Settings


def country_of(user: object) -> str | None:
    """The signed-in user's organisation's country: it decides how dates and
    numbers are written (``ar_TN``, ``en_UG``). The organisation is read with
    the session; a user without it loaded gets the language's own formats."""
    organisation = getattr(user, "organisation", None)
    if isinstance(organisation, Organisation):
        return str(organisation.country.value)
    return None


def speak(request: Request, language: str, territory: str | None = None) -> None:
    """Render the rest of this request in ``language``: a page whose reader is
    known better than the browser knows them (an invitation names its
    person's language, whatever phone opens it)."""
    catalogues: dict[str, NullTranslations] = request.app.state.catalogues
    if language not in catalogues:
        return
    translator = dataclasses.replace(
        i18n.current(),
        language=language,
        translations=catalogues[language],
        territory=territory,
    )
    i18n.activate(translator)
    request.state.translator = translator


def remember_language(response: Response, settings: Settings, language: str) -> None:
    """Keep the language last used on this phone for its signed-out pages
    (sign-in, start): a shared phone's next sign-in screen is in the words
    its people read, not in the browser's language."""
    response.set_cookie(
        i18n.LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure,
    )


class LocaleMiddleware:
    def __init__(
        self, app: ASGIApp, *, settings: Settings, catalogues: dict[str, NullTranslations]
    ) -> None:
        self.app = app
        self.settings = settings
        self.catalogues = catalogues

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        state = scope.setdefault("state", {})
        user = state.get("user")
        language = i18n.negotiate(
            user_language=getattr(user, "language", None),
            cookie_language=request_cookies(scope).get(i18n.LANGUAGE_COOKIE),
            accept_language=headers.get("accept-language", ""),
            fallback=self.settings.default_language,
        )
        translator = i18n.Translator(
            language=language,
            translations=self.catalogues[language],
            time_zone=getattr(user, "time_zone", None) or self.settings.time_zone,
            territory=country_of(user),
        )
        i18n.activate(translator)
        state["translator"] = translator

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = []
                if b"content-language" not in names:
                    extra.append((b"content-language", language.encode()))
                if b"vary" not in names:
                    extra.append((b"vary", b"Accept-Language, Cookie"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_language)
