"""Pick each request's language and time zone, before anything renders."""

from __future__ import annotations

from http.cookies import SimpleCookie

from babel.support import NullTranslations
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import i18n
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
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header must not break the page
            cookies = SimpleCookie()
        state = scope.setdefault("state", {})
        user = state.get("user")
        cookie = cookies.get(i18n.LANGUAGE_COOKIE)
        language = i18n.negotiate(
            user_language=getattr(user, "language", None),
            cookie_language=cookie.value if cookie else None,
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
