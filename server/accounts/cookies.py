"""Cookie names and flags, stricter whenever the origin is https."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Scope

from server.settings import Settings


def session_cookie(settings: Settings) -> str:
    # The __Host- prefix pins the cookie to this exact host, path / and https.
    return "__Host-homeward" if settings.secure else "homeward_session"


def csrf_cookie(settings: Settings) -> str:
    return "__Host-homeward_csrf" if settings.secure else "homeward_csrf"


CEREMONY_COOKIE = "homeward_ceremony"
_PARSED = "cookies"  # the key in the scope's state


def request_cookies(scope: Scope) -> dict[str, str]:
    """The request's cookies, parsed once per request with Starlette's parser.

    Starlette's parser reads cookies as browsers send them: one cookie it
    cannot make sense of (a JSON value another app on this host set) is
    skipped, where ``http.cookies`` stopped there and dropped every cookie
    after it, the session's included. The result is kept in the scope's
    state so the middleware and the views share one parse.
    """
    state: dict[str, Any] = scope.setdefault("state", {})
    if _PARSED not in state:
        state[_PARSED] = HTTPConnection(scope).cookies
    parsed: dict[str, str] = state[_PARSED]
    return parsed


def set_cookie(
    response: Response, settings: Settings, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict" if name != session_cookie(settings) else "lax",
        secure=settings.secure,
    )


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, secure=settings.secure)
